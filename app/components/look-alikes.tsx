import type { LookAlikeReport } from "../../packages/identifiers/src/look-alike";
import { Badge } from "./badge";
import { DataTable, EmptyRow } from "./data-table";

/**
 * Look-alike identifier formats with an example string each (ADR 013). One row per
 * self-ambiguous format or overlapping pair; the example is the data as scanned, GS written <GS>.
 * The "Confusion" column says it in words; the badge tone only repeats it.
 */
export function LookAlikeTable({ id, caption, report }: { id: string; caption: string; report: LookAlikeReport }) {
  const rows = [
    ...report.selfAmbiguous.map((s) => ({
      key: `self:${s.format}`,
      formats: s.format,
      what: "reads more than one way on its own",
      confusion: true,
      kinds: s.kinds,
      example: s.example,
      readsAs: s.example.readings.map((r) => `${r.elementString} → ${r.kind}${r.standard ? " (conformant decoder)" : " (separator missing)"}`),
    })),
    ...report.pairs.map((p) => ({
      key: `pair:${p.formats.join("|")}`,
      formats: `${p.formats[0]} and ${p.formats[1]}`,
      what: "one string matches both",
      confusion: p.confusion,
      kinds: p.kinds,
      example: p.example,
      readsAs: [
        ...p.readsAs.map((r) => `${r.format} → ${r.kind}`),
        ...p.example.readings.map((r) => `GS1 ${r.elementString} → ${r.kind}${r.standard ? "" : " (separator missing)"}`),
      ],
    })),
  ];
  return (
    <>
      <DataTable id={id} caption={caption} captionDetail={rows.length === 0 ? "none found" : `${rows.length} found`}>
        <thead>
          <tr>
            <th scope="col">Formats</th>
            <th scope="col">Example string</th>
            <th scope="col">Reads as</th>
            <th scope="col">Kinds</th>
            <th scope="col">Confusion</th>
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? <EmptyRow colSpan={5}>No look-alike formats: every string reads as one kind.</EmptyRow> : null}
          {rows.map((row) => (
            <tr key={row.key}>
              <th scope="row">
                {row.formats} <span className="muted">({row.what})</span>
              </th>
              <td>
                <code>{row.example.display}</code>
              </td>
              <td>
                <ul className="plain-list">
                  {row.readsAs.map((text) => (
                    <li key={text}>{text}</li>
                  ))}
                </ul>
              </td>
              <td>{row.kinds.join(", ")}</td>
              <td>
                {row.confusion ? (
                  <Badge tone="bad">yes: {row.kinds.filter((k) => k !== "other").join(" vs ")}</Badge>
                ) : (
                  <Badge tone="neutral">no: same kind</Badge>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </DataTable>
      {report.undecided.length > 0 ? (
        <p className="muted">Not decided (search bound reached): {report.undecided.map((u) => u.formats.join(" and ")).join("; ")}.</p>
      ) : null}
      {report.unusable.length > 0 ? <p>Formats that can print no valid string: {report.unusable.map((u) => `${u.format} (${u.reason})`).join("; ")}.</p> : null}
    </>
  );
}
