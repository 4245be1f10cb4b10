/**
 * The genealogy index (ADR 011): the whole plant's genealogy held in memory as compact arrays,
 * loaded page by page from one snapshot and tagged with what it reflects — the genealogy change count
 * (`genealogy_state.changes`, kept by triggers) and the audit sequence number of that snapshot.
 * Analyses and traces read the count in their own snapshot: equal counts mean the index is exactly
 * that snapshot's genealogy; otherwise the index is rebuilt first. Any instance notices a change by
 * the count (and sooner by NOTIFY c981_genealogy), so several portal instances stay consistent.
 */
import type postgres from "postgres";
import {
  type CompactGenealogy,
  CompactGenealogyBuilder,
  EDGE_KINDS,
  ITEM_KINDS,
  ITEM_STATUSES,
  type EdgeKind,
  type ItemStatus,
} from "../domain/genealogy-graph";
import type { Identifies } from "../domain/tracking-rule";
import { metrics } from "../utils/metrics.server";

export interface GenealogyIndex {
  graph: CompactGenealogy;
  /** genealogy_state.changes in the snapshot it was loaded from. */
  changes: number;
  /** The audit trail's head in that snapshot. */
  dataPoint: number;
  loadMs: number;
  items: number;
  edges: number;
}

/** Rows per page when loading (keyset pagination inside the snapshot). */
const PAGE = 200_000;

/** Loads the index from one repeatable-read snapshot. */
export async function loadGenealogyIndex(client: postgres.Sql): Promise<GenealogyIndex> {
  const started = performance.now();
  return client.begin("isolation level repeatable read read only", async (tx) => {
    const [state] = await tx`select changes::text as changes, (select coalesce(max(seq), 0) from audit_trail)::text as head from genealogy_state where id = 1`;
    const materials = new Map((await tx`select id, part_number from materials`).map((r) => [Number(r.id), String(r.part_number)]));
    const sites = new Map((await tx`select id, code from sites`).map((r) => [Number(r.id), String(r.code)]));
    const kinds = new Map<string, Identifies>(ITEM_KINDS.map((k) => [k, k]));
    const statuses = new Map<string, ItemStatus>(ITEM_STATUSES.map((s) => [s, s]));
    const edgeKinds = new Map<string, EdgeKind>(EDGE_KINDS.map((k) => [k, k]));
    const builder = new CompactGenealogyBuilder();
    let items = 0;
    let edges = 0;
    // Keyset pages by primary key, rows as arrays (no per-row objects with keys).
    for (let last = 0; ; ) {
      const page = await tx`select id, kind, status, material_id, site_id, identifier, date_part('epoch', created_at) * 1000 as created_at, quantity::text
        from trace_items where id > ${last} order by id limit ${PAGE}`.values();
      for (const c of page) {
        builder.addItem(
          Number(c[0]),
          String(c[5]),
          kinds.get(String(c[1]))!,
          statuses.get(String(c[2]))!,
          materials.get(Number(c[3]))!,
          sites.get(Number(c[4]))!,
          {
            // Times are stored to the millisecond; rounding undoes the float's last-bit error.
            createdAt: Math.round(Number(c[6])),
            quantity: String(c[7]),
          },
        );
      }
      items += page.length;
      if (page.length < PAGE) break;
      last = Number(page[page.length - 1]![0]);
    }
    for (let last = 0; ; ) {
      const page = await tx`select id, input_item_id, output_item_id, kind, date_part('epoch', occurred_at) * 1000 as occurred_at
        from genealogy_edges where id > ${last} and superseded_at is null order by id limit ${PAGE}`.values();
      for (const c of page)
        builder.addEdge(Number(c[1]), Number(c[2]), edgeKinds.get(String(c[3]))!, { id: Number(c[0]), occurredAt: Math.round(Number(c[4])) });
      edges += page.length;
      if (page.length < PAGE) break;
      last = Number(page[page.length - 1]![0]);
    }
    return {
      graph: builder.build(),
      changes: Number(state!.changes),
      dataPoint: Number(state!.head),
      loadMs: Math.round(performance.now() - started),
      items,
      edges,
    };
  });
}

/**
 * One index per database (client): built on first use, rebuilt when the genealogy changed. The
 * caller passes the change count it read in its own snapshot; the returned index matches it.
 */
export class GenealogyIndexHolder {
  private current: GenealogyIndex | null = null;
  private loading: Promise<GenealogyIndex> | null = null;
  private unlisten: (() => Promise<void>) | null = null;
  /** When the held index was last known to be the database's genealogy (loaded, or its count found equal). */
  private currentAt = 0;
  private unregisterMetrics: (() => void) | null = null;

  constructor(private readonly client: postgres.Sql) {}

  /**
   * Starts listening for changes (a rebuild starts early, in the background). The listening holder
   * is the server's: it also reports the index's age and size to /metrics (ADR 025).
   */
  async listen(): Promise<void> {
    if (this.unlisten) return;
    const { unlisten } = await this.client.listen("c981_genealogy", () => {
      void this.refresh().catch(() => {});
    });
    this.unlisten = unlisten;
    this.unregisterMetrics ??= metrics.onScrape(() => this.observe());
  }

  async close(): Promise<void> {
    this.unregisterMetrics?.();
    this.unregisterMetrics = null;
    await this.unlisten?.();
    this.unlisten = null;
  }

  /**
   * At scrape time: one read of the change count. Equal to the held index's: the index is current
   * (age 0). Otherwise the age is the time since it last was — a rebuild is due or running. No
   * index loaded yet: NaN.
   */
  private async observe(): Promise<void> {
    const current = this.current;
    if (!current) {
      metrics.indexAge.set(Number.NaN);
      metrics.indexEdges.set(Number.NaN);
      return;
    }
    metrics.indexEdges.set(current.edges);
    const [state] = await this.client`select changes::text as changes from genealogy_state where id = 1`;
    if (Number(state!.changes) === current.changes) this.currentAt = Date.now();
    metrics.indexAge.set((Date.now() - this.currentAt) / 1000);
  }

  /** The index as of now (rebuilt if the genealogy changed since it was loaded). */
  async refresh(): Promise<GenealogyIndex> {
    const [state] = await this.client`select changes::text as changes from genealogy_state where id = 1`;
    return this.at(Number(state!.changes));
  }

  /** An index that reflects exactly `changes` (the count read in the caller's snapshot). */
  async at(changes: number): Promise<GenealogyIndex> {
    for (let attempt = 0; attempt < 5; attempt++) {
      if (this.current && this.current.changes === changes) {
        this.currentAt = Date.now();
        return this.current;
      }
      if (this.current && this.current.changes > changes) {
        throw new Error(`the genealogy index is newer (${this.current.changes}) than the snapshot asking for it (${changes}); retry`);
      }
      if (!this.loading) {
        this.loading = loadGenealogyIndex(this.client).finally(() => {
          this.loading = null;
        });
      }
      const loaded = await this.loading;
      if (!this.current || loaded.changes >= this.current.changes) {
        this.current = loaded;
        this.currentAt = Date.now();
      }
    }
    throw new Error(`the genealogy keeps changing: no index for change ${changes}`);
  }

  peek(): GenealogyIndex | null {
    return this.current;
  }
}

/*
 * One holder per pool and process. Kept on globalThis: the server entry and the built Remix bundle
 * are separate module instances (as for the database, app/utils/db.server.ts), and both must see
 * the index the server loaded at start.
 */
const HOLDERS = Symbol.for("c981.genealogyIndexHolders");
const holders: WeakMap<postgres.Sql, GenealogyIndexHolder> = ((globalThis as { [HOLDERS]?: WeakMap<postgres.Sql, GenealogyIndexHolder> })[HOLDERS] ??=
  new WeakMap());

/** The index holder of a database connection pool (one per process and database). */
export function genealogyIndexOf(client: postgres.Sql): GenealogyIndexHolder {
  let holder = holders.get(client);
  if (!holder) holders.set(client, (holder = new GenealogyIndexHolder(client)));
  return holder;
}
