import { BurstLogger } from "../domain/burst-logger.ts";
import type { PurgeFilter } from "./exact-store.ts";
import type { IndexFeed } from "./index-feed.ts";
import type { InProcessVectorIndex } from "./inprocess-vector-index.ts";
import type { SemanticEntryStore } from "./semantic-entries.ts";
import type { IndexEvent, SemanticEntry } from "./semantic-entry.ts";
import type { VectorEntryMeta, VectorIndex, VectorMatch, VectorPartition } from "./vector-index.ts";

export interface IndexLogger {
  warn(obj: Record<string, unknown>, msg: string): void;
  info(obj: Record<string, unknown>, msg: string): void;
}

export interface SharedVectorIndexOptions {
  /** This replica's index: searched in process, bounded per tenant (oldest evicted). */
  local: InProcessVectorIndex;
  /** Durable entries (Redis in the mesh): what a starting replica rebuilds from. */
  entries: SemanticEntryStore;
  /** Stores and invalidations, heard by every replica. */
  feed: IndexFeed;
  /** `name@version` of the embedder: entries of any other are skipped at rebuild and on the feed. */
  embedderId: string;
  logger?: IndexLogger;
  /** Background writes (persist + publish) in flight past which new ones are dropped, not queued. */
  maxPendingWrites?: number;
  /** Wait between attempts to follow the feed when the broker is away. */
  retryMs?: number;
  now?: () => number;
}

/**
 * The in-process index made shared and durable for a mesh of cache replicas. A store goes into the
 * local index at once (the storing replica hits on its next lookup), then in the background into the
 * entry store and onto the feed; every replica (the storing one too) applies the feed's events in
 * stream order, so all converge on the same entries whatever the interleaving (applying is idempotent
 * by entry id). At start a replica follows the feed first, holding what arrives, loads every persisted
 * entry, then applies what it held: nothing published during the rebuild is missed.
 *
 * Serving stays correct without any of this: the answer lives in the (shared) exact store, and a vector
 * whose answer was invalidated is an orphan the engine drops when it meets it. The feed brings hit
 * rate and memory in step; it never decides what may be served.
 */
export class SharedVectorIndex implements VectorIndex {
  readonly kind = "shared-in-process";
  readonly local = true;
  private readonly pending = new Set<Promise<void>>();
  private readonly burst: BurstLogger;
  private stopFollowing: (() => Promise<void>) | undefined;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;
  /** Counters for tests and the start-up log. */
  readonly stats = { loaded: 0, applied: 0, droppedWrites: 0, failedWrites: 0 };

  constructor(private readonly o: SharedVectorIndexOptions) {
    this.burst = new BurstLogger(o.logger);
  }

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  async upsert(partition: VectorPartition, meta: VectorEntryMeta, vector: Float32Array): Promise<void> {
    this.o.local.upsertSync(partition, meta, vector);
    const entry: SemanticEntry = { partition, meta, embedderId: this.o.embedderId, vector };
    this.background("store", () => Promise.all([this.o.entries.put(entry, meta.expiresAt - this.now()), this.o.feed.publish({ kind: "store", entry })]));
  }

  size(): number {
    return this.o.local.size();
  }

  async search(partition: VectorPartition, vector: Float32Array, k: number, now: number): Promise<VectorMatch[]> {
    return this.o.local.searchSync(partition, vector, k, now);
  }

  async remove(partition: VectorPartition, id: string): Promise<void> {
    this.o.local.removeEntry(partition, id);
    this.background("remove", () => Promise.all([this.o.entries.remove(partition.tenant, id), this.o.feed.publish({ kind: "remove", partition, id })]));
  }

  /** Waits for the entry store and the feed (an admin call: its caller wants it done everywhere). */
  async invalidate(tenant: string, namespace?: string): Promise<number> {
    const n = this.o.local.invalidateSync(tenant, namespace);
    await this.everywhere("invalidate", () => [
      this.o.entries.drop(tenant, namespace === undefined ? {} : { namespace }),
      this.o.feed.publish({ kind: "invalidate", tenant, ...(namespace === undefined ? {} : { namespace }) }),
    ]);
    return n;
  }

  async purge(tenant: string, filter: PurgeFilter): Promise<number> {
    const n = this.o.local.purgeSync(tenant, filter);
    await this.everywhere("purge", () => [this.o.entries.drop(tenant, filter), this.o.feed.publish({ kind: "purge", tenant, filter })]);
    return n;
  }

  /** One event from the feed (or one persisted entry at rebuild) into the local index. */
  apply(ev: IndexEvent): void {
    this.stats.applied++;
    switch (ev.kind) {
      case "store": {
        const { entry } = ev;
        if (entry.embedderId !== this.o.embedderId || entry.meta.expiresAt <= this.now()) return;
        this.o.local.upsertSync(entry.partition, entry.meta, entry.vector);
        return;
      }
      case "remove":
        this.o.local.removeEntry(ev.partition, ev.id);
        return;
      case "invalidate":
        this.o.local.invalidateSync(ev.tenant, ev.namespace);
        return;
      case "purge":
        this.o.local.purgeSync(ev.tenant, ev.filter);
        return;
    }
  }

  /**
   * Follows the feed, rebuilds from the entry store, then applies what arrived meanwhile. A broker
   * or Redis that is away does not stop the replica: it serves from what it has and tries again
   * (follow, then reload) every `retryMs`.
   */
  async start(): Promise<void> {
    const held: IndexEvent[] = [];
    let live = false;
    try {
      this.stopFollowing = await this.o.feed.follow((ev) => {
        if (live) this.safeApply(ev);
        else held.push(ev);
      });
    } catch (err) {
      this.o.logger?.warn({ err: errText(err), retryMs: this.retryMs }, "semantic index feed unreachable; serving this replica's own entries until it is back");
      this.retry = setTimeout(() => void this.start(), this.retryMs);
      this.retry.unref();
      return;
    }
    const t0 = performance.now();
    try {
      this.stats.loaded += await this.o.entries.load((entry) => this.safeApply({ kind: "store", entry }));
    } catch (err) {
      this.o.logger?.warn({ err: errText(err), retryMs: this.retryMs }, "semantic entries could not be loaded; the index holds what the feed brings until a reload succeeds");
      this.reloadLater();
    }
    for (const ev of held) this.safeApply(ev);
    live = true;
    this.o.logger?.info({ loaded: this.stats.loaded, held: held.length, ms: Math.round(performance.now() - t0), entries: this.o.local.size() }, "semantic index rebuilt");
  }

  /**
   * Loads the persisted entries again (Redis was away at start). Loading is idempotent; an entry the
   * feed removed meanwhile may come back as an orphan, which the engine drops when it meets it.
   */
  private reloadLater(): void {
    if (this.closed) return;
    this.retry = setTimeout(() => {
      this.o.entries.load((entry) => this.safeApply({ kind: "store", entry })).then(
        (n) => {
          this.stats.loaded += n;
          this.o.logger?.info({ loaded: n }, "semantic entries reloaded");
        },
        () => this.reloadLater(),
      );
    }, this.retryMs);
    this.retry.unref();
  }

  /** Stops following and lets the writes in flight finish. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    await this.stopFollowing?.().catch(() => undefined);
    await Promise.allSettled([...this.pending]);
  }

  /** Writes in flight (tests wait for them to settle). */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  private get retryMs(): number {
    return this.o.retryMs ?? 5_000;
  }

  private safeApply(ev: IndexEvent): void {
    try {
      this.apply(ev);
    } catch (err) {
      this.burst.warn({ err: errText(err), kind: ev.kind }, "semantic index event not applied");
    }
  }

  /** Persist and publish off the request path; bounded, so an unreachable Redis or broker cannot grow memory. */
  private background(op: string, work: () => Promise<unknown>): void {
    if (this.closed) return;
    if (this.pending.size >= (this.o.maxPendingWrites ?? 1_000)) {
      this.stats.droppedWrites++;
      return;
    }
    const p = work().then(
      () => undefined,
      (err: unknown) => {
        this.stats.failedWrites++;
        this.burst.warn({ op, err: errText(err) }, "semantic entry not shared (other replicas and restarts will miss it)");
      },
    );
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private async everywhere(op: string, work: () => Promise<unknown>[]): Promise<void> {
    const results = await Promise.allSettled(work());
    for (const r of results) if (r.status === "rejected") this.burst.warn({ op, err: errText(r.reason) }, "semantic invalidation did not reach every replica");
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
