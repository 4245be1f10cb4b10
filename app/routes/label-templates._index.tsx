import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { PageHeader } from "~/components/app-shell";
import { Badge } from "~/components/badge";
import { DataTable, EmptyRow } from "~/components/data-table";
import { LookAlikeTable } from "~/components/look-alikes";
import { labelTemplateLookAlikes } from "~/queries/look-alikes.server";
import { requirePermission } from "~/services/signed-in.server";
import { siteFilter } from "~/utils/auth.server";
import { getDb } from "~/utils/db.server";

export const meta: MetaFunction = () => [{ title: "Label templates · C-981" }];

export async function loader({ request }: LoaderFunctionArgs) {
  // Label templates belong to a site: the reader sees those of their sites only (scoped in SQL).
  const signedIn = await requirePermission(request, "read", "Site");
  const db = await getDb();
  return { templates: await labelTemplateLookAlikes(db, { sites: siteFilter(signedIn) }) };
}

const slug = (text: string) => text.toLowerCase().replace(/[^a-z0-9]+/g, "-");

export default function LabelTemplates() {
  const { templates } = useLoaderData<typeof loader>();
  const flagged = templates.filter((t) => t.lookAlikes.selfAmbiguous.length + t.lookAlikes.pairs.length > 0);
  return (
    <>
      <PageHeader
        title="Label templates"
        lead="The identifier formats each label template prints, and whether any string it prints reads as more than one kind (serial, lot, container)."
      />
      <DataTable id="label-templates" caption="Label templates" captionDetail={`${flagged.length} of ${templates.length} with look-alike formats`}>
        <thead>
          <tr>
            <th scope="col">Site</th>
            <th scope="col">Template</th>
            <th scope="col">Work centre</th>
            <th scope="col">Formats</th>
            <th scope="col">Look-alikes</th>
          </tr>
        </thead>
        <tbody>
          {templates.length === 0 ? <EmptyRow colSpan={5}>No label templates at your sites.</EmptyRow> : null}
          {templates.map((t) => {
            const found = t.lookAlikes.selfAmbiguous.length + t.lookAlikes.pairs.length;
            return (
              <tr key={`${t.site}/${t.code}`}>
                <td>{t.site}</td>
                <th scope="row">
                  {found > 0 ? <a href={`#look-alikes-${slug(`${t.site}-${t.code}`)}`}>{t.code}</a> : t.code} <span className="muted">{t.name}</span>
                </th>
                <td>{t.workCentre ?? <span className="muted">site-wide</span>}</td>
                <td>
                  <ul className="plain-list">
                    {t.formats.map((f) => (
                      <li key={f.code}>
                        <code>{f.code}</code> ({f.identifies}): {f.description}
                      </li>
                    ))}
                  </ul>
                </td>
                <td>
                  {found > 0 ? (
                    <Badge tone="bad">
                      {found} look-alike{found === 1 ? "" : "s"}
                    </Badge>
                  ) : (
                    <Badge tone="good">none</Badge>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </DataTable>
      {flagged.map((t) => (
        <section
          key={`${t.site}/${t.code}`}
          id={`look-alikes-${slug(`${t.site}-${t.code}`)}`}
          aria-labelledby={`look-alikes-${slug(`${t.site}-${t.code}`)}-heading`}
        >
          <h2 id={`look-alikes-${slug(`${t.site}-${t.code}`)}-heading`}>
            {t.site} {t.code}: look-alike formats
          </h2>
          <LookAlikeTable id={`look-alikes-table-${slug(`${t.site}-${t.code}`)}`} caption={`Look-alikes on ${t.site} ${t.code}`} report={t.lookAlikes} />
        </section>
      ))}
    </>
  );
}
