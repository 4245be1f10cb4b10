import { createHash, randomBytes } from "node:crypto";
import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import { ruleSetVersions, runtimeClientRefusals, runtimeClients, runtimeClientSites, runtimeClientStatus, sites } from "../../db/schema";
import type { Db, DbOrTx } from "../utils/db.server";
import { DomainError } from "../utils/errors.server";
import { fieldErrorsFromIssues } from "../utils/field-errors";
import { appendAudit } from "./audit.server";
import type { RefusalReport, StatusReport } from "../schemas/status-report";

export const hashToken = (token: string) => createHash("sha256").update(token).digest("hex");

export const createRuntimeClientSchema = z.object({
  name: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$/, "2–64 characters: letters, digits, dot, dash, underscore"),
  sites: z.array(z.string().trim().toUpperCase().min(1)).min(1, "Give at least one site"),
  reason: z.string().trim().min(3, "Give a reason").max(500),
});

/** Creates a runtime client; returns its bearer token, which is shown once and stored only as a hash. */
export async function createRuntimeClient(
  db: Db,
  actor: string,
  input: z.input<typeof createRuntimeClientSchema>,
): Promise<{ name: string; token: string; sites: string[] }> {
  const parsed = createRuntimeClientSchema.safeParse(input);
  if (!parsed.success) throw new DomainError("invalid", "The runtime client has problems", fieldErrorsFromIssues(parsed.error.issues));
  const data = parsed.data;
  const token = `c981_${randomBytes(32).toString("base64url")}`;
  return db.transaction(async (tx) => {
    const siteRows = await tx.select({ id: sites.id, code: sites.code }).from(sites).where(inArray(sites.code, data.sites));
    const unknown = data.sites.filter((c) => !siteRows.some((s) => s.code === c));
    if (unknown.length) throw new DomainError("invalid", "Unknown site", { sites: unknown.map((c) => `site ${c} does not exist`) });
    const [existing] = await tx.select({ id: runtimeClients.id }).from(runtimeClients).where(eq(runtimeClients.name, data.name));
    if (existing) throw new DomainError("conflict", "Name taken", { name: ["A runtime client has this name (names are never reused)"] });
    const [client] = await tx
      .insert(runtimeClients)
      .values({ name: data.name, tokenHash: hashToken(token), createdAt: sql`now()` })
      .returning({ id: runtimeClients.id });
    await tx.insert(runtimeClientSites).values(siteRows.map((s) => ({ runtimeClientId: client!.id, siteId: s.id })));
    const codes = siteRows.map((s) => s.code).sort();
    await tx.execute(sql`select pg_notify('c981_runtime_clients', ${data.name})`);
    await appendAudit(tx, {
      actor,
      action: "runtime_client.create",
      entityType: "runtime_client",
      entityId: data.name,
      after: { name: data.name, sites: codes },
      reason: data.reason,
    });
    return { name: data.name, token, sites: codes };
  });
}

export async function revokeRuntimeClient(db: Db, actor: string, name: string, reason: string): Promise<void> {
  if (reason.trim().length < 3) throw new DomainError("invalid", "Give a reason", { reason: ["Give a reason"] });
  await db.transaction(async (tx) => {
    const revoked = await tx
      .update(runtimeClients)
      .set({ revokedAt: sql`now()` })
      .where(and(eq(runtimeClients.name, name), isNull(runtimeClients.revokedAt)))
      .returning({ id: runtimeClients.id });
    if (revoked.length === 0) throw new DomainError("not_found", `no active runtime client ${name}`);
    await appendAudit(tx, { actor, action: "runtime_client.revoke", entityType: "runtime_client", entityId: name, after: { revoked: true }, reason });
    // Instances drop cached tokens when they hear this.
    await tx.execute(sql`select pg_notify('c981_runtime_clients', ${name})`);
  });
}

export interface AuthenticatedClient {
  id: number;
  name: string;
  siteIds: Set<number>;
}

/** The active client holding this bearer token, or null. */
export async function authenticateClient(db: DbOrTx, token: string): Promise<AuthenticatedClient | null> {
  const rows = await db
    .select({ id: runtimeClients.id, name: runtimeClients.name, siteId: runtimeClientSites.siteId })
    .from(runtimeClients)
    .innerJoin(runtimeClientSites, eq(runtimeClientSites.runtimeClientId, runtimeClients.id))
    .where(and(eq(runtimeClients.tokenHash, hashToken(token)), isNull(runtimeClients.revokedAt)));
  if (rows.length === 0) return null;
  return { id: rows[0]!.id, name: rows[0]!.name, siteIds: new Set(rows.map((r) => r.siteId)) };
}

/**
 * Counts one status report of this client in the current minute (of the database clock) and says
 * whether it is within `perMinute`. One upsert, so every instance counts on the same row and
 * parallel reports cannot slip between a read and a write (ADR 008). Rejected reports count too.
 */
export async function takeReportAllowance(db: DbOrTx, clientId: number, perMinute: number): Promise<{ allowed: boolean; retryAfterSeconds: number }> {
  const rows = await db.execute<{ count: number; remaining: number }>(sql`
    insert into runtime_client_report_windows as w (runtime_client_id, window_start, count)
    values (${clientId}, date_trunc('minute', now()), 1)
    on conflict (runtime_client_id) do update set
      count = case when w.window_start = excluded.window_start then w.count + 1 else 1 end,
      window_start = excluded.window_start
    returning count, extract(epoch from (window_start + interval '1 minute' - now()))::float8 as remaining`);
  const row = rows[0]!;
  return { allowed: Number(row.count) <= perMinute, retryAfterSeconds: Math.max(1, Math.ceil(Number(row.remaining))) };
}

export async function recordStatus(db: Db, client: AuthenticatedClient, site: { id: number; code: string }, report: StatusReport): Promise<void> {
  if (report.kind === "refusal") return recordRefusal(db, client, site, report);
  await db.transaction(async (tx) => {
    const [stored] = await tx
      .select({ digest: ruleSetVersions.digest })
      .from(ruleSetVersions)
      .where(and(eq(ruleSetVersions.siteId, site.id), eq(ruleSetVersions.version, report.version)));
    if (!stored)
      throw new DomainError("missing_reference", `Site ${site.code} has no version ${report.version}.`, { version: [`not a version of site ${site.code}`] });
    if (report.digest !== `sha256:${stored.digest}`) {
      throw new DomainError("unprocessable", `The digest is not that of version ${report.version} of site ${site.code}.`, {
        digest: [`not the digest of version ${report.version}`],
      });
    }
    const values = {
      runtimeClientId: client.id,
      siteId: site.id,
      version: report.version,
      digest: report.digest,
      activatedAt: new Date(report.activatedAt),
      trustedKeys: report.trustedKeys,
      error: report.error ?? null,
      reportedAt: sql`now()`,
    };
    await tx
      .insert(runtimeClientStatus)
      .values(values)
      .onConflictDoUpdate({ target: [runtimeClientStatus.runtimeClientId, runtimeClientStatus.siteId], set: { ...values } });
    await tx.update(runtimeClients).set({ lastSeenAt: sql`now()` }).where(eq(runtimeClients.id, client.id));
    const { kind: _kind, ...after } = report;
    await appendAudit(tx, {
      actor: `runtime:${client.name}`,
      action: "runtime_client.status",
      entityType: "runtime_client",
      entityId: client.name,
      after: { site: site.code, ...after },
    });
  });
}

async function recordRefusal(db: Db, client: AuthenticatedClient, site: { id: number; code: string }, report: RefusalReport): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.insert(runtimeClientRefusals).values({
      runtimeClientId: client.id,
      siteId: site.id,
      offeredVersion: report.offered.version,
      offeredDigest: report.offered.digest,
      code: report.code,
      source: report.source,
      message: report.message ?? null,
      runningVersion: report.runningVersion,
      reportedAt: sql`now()`,
    });
    await tx.update(runtimeClients).set({ lastSeenAt: sql`now()` }).where(eq(runtimeClients.id, client.id));
    const { kind: _kind, ...after } = report;
    await appendAudit(tx, {
      actor: `runtime:${client.name}`,
      action: "runtime_client.refusal",
      entityType: "runtime_client",
      entityId: client.name,
      after: { site: site.code, ...after },
    });
  });
}
