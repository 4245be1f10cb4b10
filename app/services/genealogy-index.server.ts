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
  applyGenealogyChanges,
  CannotApply,
  type CompactGenealogy,
  CompactGenealogyBuilder,
  type EdgeChange,
  type ItemChange,
  EDGE_KINDS,
  ITEM_KINDS,
  ITEM_STATUSES,
  type EdgeKind,
  type ItemStatus,
} from "../domain/genealogy-graph";
import type { Identifies } from "../domain/tracking-rule";
import { readGenealogySnapshot, writeGenealogySnapshot } from "../utils/genealogy-snapshot.server";
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
  /** Set when it was caught up from an older index (ADR 044): rows re-read, and the time reading and applying them. */
  caughtUp?: { rows: number; readMs: number; applyMs: number };
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

/** Changed rows beyond which a catch-up reads about as much as a rebuild: rebuild instead. */
const CATCH_UP_ROWS = { floor: 200_000, share: 0.25 };
/** Counter values of the change log kept below the newest index a holder holds (ADR 044). */
const LOG_RETAINED = 100_000;

/**
 * Brings `index` to the genealogy of the snapshot `tx` (ADR 044): reads the change log between the
 * index's counter and the snapshot's, re-reads the rows it names as the snapshot has them and
 * applies them to a copy of the index. Null when the log cannot say: pruned below the index's
 * counter (fewer log rows than counted statements), a deletion or truncation, more changed rows
 * than a rebuild would read, or the index is ahead of the snapshot — then the caller rebuilds.
 */
export async function catchUpGenealogyIndex(tx: postgres.Sql | postgres.TransactionSql, index: GenealogyIndex): Promise<GenealogyIndex | null> {
  const started = performance.now();
  const from = index.changes;
  const [state] = await tx`select changes::text as changes, (select coalesce(max(seq), 0) from audit_trail)::text as head,
      (select count(*) from genealogy_changes where seq > ${from})::text as statements,
      (select count(*) from genealogy_changes where seq > ${from} and op in ('delete', 'truncate'))::text as unappliable,
      (select coalesce(sum(cardinality(ids)), 0) from genealogy_changes where seq > ${from})::text as written
    from genealogy_state where id = 1`;
  const changes = Number(state!.changes);
  if (changes === from) return index;
  if (changes < from || Number(state!.statements) !== changes - from || Number(state!.unappliable) > 0) return null;
  if (Number(state!.written) > Math.max(CATCH_UP_ROWS.floor, CATCH_UP_ROWS.share * (index.items + index.edges))) return null;
  const itemRows = await tx`with changed as (select distinct unnest(ids) as id from genealogy_changes where seq > ${from} and relation = 'trace_items')
      select ti.id, ti.kind, ti.status, m.part_number, s.code, ti.identifier, date_part('epoch', ti.created_at) * 1000 as created_at, ti.quantity::text
      from changed join trace_items ti on ti.id = changed.id join materials m on m.id = ti.material_id join sites s on s.id = ti.site_id
      order by ti.id`.values();
  const edgeRows = await tx`with changed as (select distinct unnest(ids) as id from genealogy_changes where seq > ${from} and relation = 'genealogy_edges')
      select e.id, e.input_item_id, e.output_item_id, e.kind, date_part('epoch', e.occurred_at) * 1000 as occurred_at, e.superseded_at is null as active
      from changed join genealogy_edges e on e.id = changed.id
      order by e.id`.values();
  const items: ItemChange[] = itemRows.map((c) => ({
    id: Number(c[0]),
    kind: c[1] as Identifies,
    status: c[2] as ItemStatus,
    partNumber: String(c[3]),
    site: String(c[4]),
    identifier: String(c[5]),
    createdAt: Math.round(Number(c[6])),
    quantity: String(c[7]),
  }));
  const edges: EdgeChange[] = edgeRows.map((c) => ({
    id: Number(c[0]),
    input: Number(c[1]),
    output: Number(c[2]),
    kind: c[3] as EdgeKind,
    occurredAt: Math.round(Number(c[4])),
    active: c[5] === true,
  }));
  const read = performance.now();
  const graph = applyGenealogyChanges(index.graph, items, edges);
  return {
    graph,
    changes,
    dataPoint: Number(state!.head),
    loadMs: Math.round(performance.now() - started),
    items: graph.details.byMaterialSite.length,
    edges: graph.edgeCount,
    caughtUp: { rows: items.length + edges.length, readMs: Math.round(read - started), applyMs: Math.round(performance.now() - read) },
  };
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

  /** The index as of now (caught up, or rebuilt, if the genealogy changed since it was loaded). */
  async refresh(): Promise<GenealogyIndex> {
    const [state] = await this.client`select changes::text as changes from genealogy_state where id = 1`;
    return this.at(Number(state!.changes));
  }

  /**
   * An index that reflects exactly `changes` (the count read in the caller's snapshot). Behind it,
   * the held index catches up by the change log (ADR 044) — inside `snapshot`, the caller's own
   * repeatable-read transaction whose count is `changes`, so it lands on exactly that count; without
   * one, in a snapshot of its own (which may be newer: then the caller is told to retry, as when the
   * index is already ahead). When the log cannot say, the whole index is rebuilt (ADR 011).
   */
  async at(changes: number, snapshot?: postgres.TransactionSql): Promise<GenealogyIndex> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = this.current;
      if (current && current.changes === changes) {
        this.currentAt = Date.now();
        return current;
      }
      if (current && current.changes > changes) {
        throw new Error(`the genealogy index is newer (${current.changes}) than the snapshot asking for it (${changes}); retry`);
      }
      if (this.loading) {
        // A rebuild or a catch-up is under way: wait for it, then look again.
        this.adopt(await this.loading);
        continue;
      }
      if (current) {
        const catchingUp = (
          snapshot ? this.catchUp(snapshot, current) : this.client.begin("isolation level repeatable read read only", (tx) => this.catchUp(tx, current))
        ).finally(() => {
          if (this.loading === catchingUp) this.loading = null;
        });
        this.loading = catchingUp;
        this.adopt(await catchingUp);
        continue;
      }
      this.loading = loadGenealogyIndex(this.client).finally(() => {
        this.loading = null;
      });
      this.adopt(await this.loading);
    }
    throw new Error(`the genealogy keeps changing: no index for change ${changes}`);
  }

  /** The held index caught up in `tx`'s snapshot, else rebuilt (a log that cannot say, or a change it cannot apply). */
  private async catchUp(tx: postgres.Sql | postgres.TransactionSql, current: GenealogyIndex): Promise<GenealogyIndex> {
    let caught: GenealogyIndex | null = null;
    try {
      caught = await catchUpGenealogyIndex(tx, current);
    } catch (error) {
      // A database error is the caller's (its transaction failed); an index that cannot take the change is rebuilt.
      if (!(error instanceof CannotApply)) throw error;
    }
    if (caught) {
      this.prune(caught.changes);
      return caught;
    }
    const loaded = await loadGenealogyIndex(this.client);
    this.prune(loaded.changes);
    return loaded;
  }

  private adopt(index: GenealogyIndex): void {
    if (!this.current || index.changes >= this.current.changes) {
      this.current = index;
      this.currentAt = Date.now();
    }
  }

  private prunedAt = 0;
  /**
   * Drops the change log far below the index held here (at most once a minute, in the background).
   * Instances are not registered, so "below every instance's index" is a retention window: an
   * instance further behind finds fewer log rows than statements counted and rebuilds (ADR 044).
   */
  private prune(held: number): void {
    if (Date.now() - this.prunedAt < 60_000 || held <= LOG_RETAINED) return;
    this.prunedAt = Date.now();
    void this.client`delete from genealogy_changes where seq <= ${held - LOG_RETAINED}`.catch(() => {});
  }

  peek(): GenealogyIndex | null {
    return this.current;
  }

  /**
   * Starts from the snapshot file (issue 27 item 2): when it was made from this database and is not
   * ahead of it, it becomes the held index, and the next `at`/`refresh` catches it up by the change
   * log (or rebuilds, when the log cannot say). Any other file is ignored. Says what it did.
   */
  async startFrom(file: string): Promise<string> {
    if (this.current) return "an index is held already; snapshot not read";
    const started = performance.now();
    const identity = await databaseIdentity(this.client);
    const decoded = await readGenealogySnapshot(file, identity);
    if ("problem" in decoded) return `snapshot not used (${decoded.problem})`;
    const [state] = await this.client`select changes::text as changes from genealogy_state where id = 1`;
    if (decoded.tag.changes > Number(state!.changes)) return `snapshot not used (change ${decoded.tag.changes} is ahead of the database's ${state!.changes})`;
    const loadMs = Math.round(performance.now() - started);
    this.adopt({
      graph: decoded.graph,
      changes: decoded.tag.changes,
      dataPoint: decoded.tag.dataPoint,
      loadMs,
      items: decoded.tag.items,
      edges: decoded.tag.edges,
    });
    return `snapshot at change ${decoded.tag.changes} read in ${loadMs} ms (${decoded.tag.items} items, ${decoded.tag.edges} edges)`;
  }

  /** Writes the held index to the snapshot file (atomically); null when no index is held. */
  async saveTo(file: string): Promise<{ changes: number; bytes: number; ms: number } | null> {
    const index = this.current;
    if (!index) return null;
    const started = performance.now();
    const identity = await databaseIdentity(this.client);
    const { bytes } = await writeGenealogySnapshot(file, index.graph, {
      database: identity,
      changes: index.changes,
      dataPoint: index.dataPoint,
      items: index.items,
      edges: index.edges,
    });
    return { changes: index.changes, bytes, ms: Math.round(performance.now() - started) };
  }
}

/**
 * Which database a snapshot belongs to: its name and the hash of its first audit row (a database
 * restored or re-created elsewhere keeps both; another plant's does not).
 */
export async function databaseIdentity(client: postgres.Sql): Promise<string> {
  const [row] = await client`select current_database() as name, (select hash from audit_trail order by seq limit 1) as first`;
  return `${String(row!.name)}/${row!.first === null ? "empty" : String(row!.first)}`;
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
