import { createHash, randomBytes } from "node:crypto";
import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import { runtimeClients, runtimeClientSites, sites } from "../../db/schema";
import type { Db, DbOrTx } from "../utils/db.server";
import { DomainError } from "../utils/errors.server";
import { fieldErrorsFromIssues } from "../utils/field-errors";
import { appendAudit } from "./audit.server";
import type { StatusReport } from "../schemas/status-report";
import { recordStatusReports } from "./runtime-status-reports.server";

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
 * Records one status report outside any batch (tools, tests): the batch writer's path with a batch
 * of one and no rate limit (ADR 026). A report that does not hold throws its DomainError (422).
 */
export async function recordStatus(db: Db, client: AuthenticatedClient, site: { id: number; code: string }, report: StatusReport): Promise<void> {
  const [outcome] = await recordStatusReports(db, [{ client, site, report }], Number.POSITIVE_INFINITY);
  if (outcome?.result === "refused") throw outcome.error;
}
