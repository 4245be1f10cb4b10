/**
 * The parents and routing steps a site's rule sets know (ADR 042, Amendment 2): what a scan report's
 * rows may name. Read from the schema-version-2 documents of every version of the site (the form
 * scans are decided with, ADR 039/040) — a batch may hold decisions made under an older version
 * (a station offline for weeks, a batch sealed across a release). A stored version never changes
 * (its canonical bytes are digested and signed), so what each one knows is read once per process
 * and kept by its digest (not its row id: a process may talk to more than one database, as tests do).
 */
import { and, eq, inArray, isNotNull } from "drizzle-orm";
import { ruleSetVersions } from "../../db/schema";
import type { Db } from "../utils/db.server";

export interface KnownRouting {
  /** The versions of the site that have a schema-version-2 form. */
  versions: ReadonlySet<number>;
  /** Materials with a rule in some version. */
  parents: ReadonlySet<string>;
  /** `parent\0step` of every routing step in some version. */
  steps: ReadonlySet<string>;
}

interface OfVersion {
  parents: string[];
  steps: string[];
}

const byDigest = new Map<string, OfVersion>();

export const stepKey = (parent: string, step: number) => `${parent}\u0000${step}`;

/** What one schema-version-2 document names: its rules' materials and their routing steps. */
function routingOf(canonical: Uint8Array): OfVersion {
  const document = JSON.parse(Buffer.from(canonical).toString("utf8")) as { rules?: { partNumber: string; routing?: { step: number }[] }[] };
  const parents: string[] = [];
  const steps: string[] = [];
  for (const rule of document.rules ?? []) {
    parents.push(rule.partNumber);
    for (const s of rule.routing ?? []) steps.push(stepKey(rule.partNumber, s.step));
  }
  return { parents, steps };
}

export async function knownRouting(db: Db, siteId: number): Promise<KnownRouting> {
  const rows = await db
    .select({ id: ruleSetVersions.id, version: ruleSetVersions.version, digest: ruleSetVersions.digestV2 })
    .from(ruleSetVersions)
    .where(and(eq(ruleSetVersions.siteId, siteId), isNotNull(ruleSetVersions.canonicalV2)));
  const missing = rows.filter((r) => r.digest === null || !byDigest.has(r.digest)).map((r) => r.id);
  if (missing.length > 0) {
    const documents = await db
      .select({ digest: ruleSetVersions.digestV2, canonical: ruleSetVersions.canonicalV2 })
      .from(ruleSetVersions)
      .where(inArray(ruleSetVersions.id, missing));
    for (const d of documents) if (d.canonical && d.digest) byDigest.set(d.digest, routingOf(d.canonical));
  }
  const parents = new Set<string>();
  const steps = new Set<string>();
  for (const r of rows) {
    const known = r.digest === null ? undefined : byDigest.get(r.digest);
    if (!known) continue;
    for (const p of known.parents) parents.add(p);
    for (const s of known.steps) steps.add(s);
  }
  return { versions: new Set(rows.map((r) => r.version)), parents, steps };
}
