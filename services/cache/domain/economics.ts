import { z } from "zod";
import { addTally, type EconomicsSyncRequest, type EconomicsSyncResult, type EconomicsTally } from "./economics-pool.ts";

/**
 * Does the semantic layer pay, per category? Each semantic lookup costs its embedding (a price per
 * lookup with a remote embedder, 0 locally) and the latency it adds to every miss (priced per ms); each
 * hit saves the answer's cost. Break-even hit rate = lookup cost / saving per hit. Over the last
 * `window` semantic lookups of a category, a hit rate below break-even (less a hysteresis margin)
 * switches the layer off for that category and above it (plus the margin) back on; while off, a
 * `probeShare` of lookups still runs so the rate keeps being measured. Stores continue either way, so
 * the index is warm when the layer comes back.
 */
export const economicsConfigSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Semantic lookups remembered per category. */
    window: z.number().int().min(10).default(1000),
    /** No decision before this many lookups in the window. */
    minSamples: z.number().int().min(1).default(200),
    /** Price of one embedding (remote embedders); 0 for the local one. */
    embeddingCostUsd: z.number().min(0).default(0),
    /** What a millisecond added to a request is worth (users waiting, capacity). */
    latencyCostUsdPerMs: z.number().min(0).default(0.00003),
    /** Average cost of the answer a hit saves, per category (`default` for the rest). */
    answerCostUsd: z.record(z.string(), z.number().positive()).default({ default: 0.002 }),
    /** Fixed break-even hit rate instead of the computed one (e.g. 0.15). */
    breakEvenHitRate: z.number().min(0).max(1).optional(),
    /** Relative margin around break-even: off below be*(1-m), on above be*(1+m). */
    hysteresis: z.number().min(0).max(0.9).default(0.2),
    /** Share of lookups still run while the layer is off, to keep measuring. */
    probeShare: z.number().min(0).max(1).default(0.1),
    /**
     * With a pooled store (the mesh: Redis), how often a replica adds its lookups to the pool and reads
     * every replica's back; the switch is then decided on the pooled lookups, and a restarted replica
     * starts from them. A pool not reached for three periods leaves each replica on its own lookups.
     */
    syncMs: z.number().int().min(100).default(2000),
    /** Width of a pooled time bucket. */
    bucketSeconds: z.number().int().min(1).default(60),
    /** Pooled lookups older than this no longer count, however few came since. */
    horizonHours: z.number().min(1 / 60).default(24),
  })
  .strict();

export type EconomicsConfig = z.infer<typeof economicsConfigSchema>;

export interface CategoryEconomics {
  category: string;
  semanticOn: boolean;
  lookups: number;
  hits: number;
  hitRate: number;
  breakEvenHitRate: number;
  /** Mean added latency of a semantic lookup (ms) in the window. */
  lookupMs: number;
  switches: number;
}

class CategoryWindow {
  private readonly hits: Uint8Array;
  private readonly ms: Float64Array;
  private next = 0;
  count = 0;
  hitCount = 0;
  msSum = 0;
  on = true;
  switches = 0;
  probeCounter = 0;
  /** The newest pooled lookups, up to the window (when the pool is in use). */
  pooled: EconomicsTally | undefined;

  constructor(size: number) {
    this.hits = new Uint8Array(size);
    this.ms = new Float64Array(size);
  }

  push(hit: boolean, ms: number): void {
    const size = this.hits.length;
    if (this.count === size) {
      this.hitCount -= this.hits[this.next] as number;
      this.msSum -= this.ms[this.next] as number;
    } else this.count++;
    this.hits[this.next] = hit ? 1 : 0;
    this.ms[this.next] = ms;
    this.hitCount += hit ? 1 : 0;
    this.msSum += ms;
    this.next = (this.next + 1) % size;
  }
}

export interface EconomicsOptions {
  /** Pool the lookups of every replica through an EconomicsStore (syncRequest / syncApplied). */
  pooled?: boolean;
  now?: () => number;
}

export class SemanticEconomics {
  private readonly windows = new Map<string, CategoryWindow>();
  private readonly pooledMode: boolean;
  private readonly now: () => number;
  /** Lookups not yet added to the pool: category → bucket → tally. */
  private pending = new Map<string, Map<number, EconomicsTally>>();
  /** Switches not yet written to the pool. */
  private switched = new Map<string, boolean>();
  /** Every replica's lookups, as last read: category → bucket → tally. */
  private readonly pooledBuckets = new Map<string, Map<number, EconomicsTally>>();
  private syncedAt = Number.NEGATIVE_INFINITY;
  private lastReadBucket: number | undefined;

  constructor(
    readonly config: EconomicsConfig,
    private readonly onChange?: (e: CategoryEconomics) => void,
    options: EconomicsOptions = {},
  ) {
    this.pooledMode = options.pooled ?? false;
    this.now = options.now ?? Date.now;
  }

  private window(category: string): CategoryWindow {
    let w = this.windows.get(category);
    if (!w) this.windows.set(category, (w = new CategoryWindow(this.config.window)));
    return w;
  }

  breakEven(category: string, lookupMs: number): number {
    const c = this.config;
    if (c.breakEvenHitRate !== undefined) return c.breakEvenHitRate;
    const saving = c.answerCostUsd[category] ?? c.answerCostUsd["default"] ?? 0.002;
    return Math.min(1, (c.embeddingCostUsd + c.latencyCostUsdPerMs * lookupMs) / saving);
  }

  /** Whether this lookup should run the semantic layer (always, or as a probe while it is off). */
  shouldLookup(category: string): boolean {
    if (!this.config.enabled) return true;
    const w = this.window(category);
    if (w.on) return true;
    const period = this.config.probeShare > 0 ? Math.round(1 / this.config.probeShare) : 0;
    if (period === 0) return false;
    w.probeCounter = (w.probeCounter + 1) % period;
    return w.probeCounter === 0;
  }

  /** Whether decisions rest on the pool (read within three sync periods). */
  get pooledFresh(): boolean {
    return this.pooledMode && this.now() - this.syncedAt <= 3 * this.config.syncMs;
  }

  private bucket(at: number): number {
    return Math.floor(at / (this.config.bucketSeconds * 1000));
  }

  private get horizonBuckets(): number {
    return Math.max(1, Math.ceil((this.config.horizonHours * 3_600) / this.config.bucketSeconds));
  }

  /**
   * Records a semantic lookup's outcome and time. On its own lookups a replica may switch the
   * category's layer off or on at once; with a fresh pool the next sync decides, on every replica's.
   */
  record(category: string, hit: boolean, ms: number): void {
    if (!this.config.enabled) return;
    const w = this.window(category);
    w.push(hit, ms);
    if (this.pooledMode) {
      let mine = this.pending.get(category);
      if (!mine) this.pending.set(category, (mine = new Map()));
      addTally(mine, this.bucket(this.now()), { lookups: 1, hits: hit ? 1 : 0, msSum: ms });
      if (this.pooledFresh) return;
    }
    if (w.count < this.config.minSamples) return;
    this.decide(category, w, { lookups: w.count, hits: w.hitCount, msSum: w.msSum });
  }

  private decide(category: string, w: CategoryWindow, t: EconomicsTally): boolean {
    const rate = t.hits / t.lookups;
    const be = this.breakEven(category, t.msSum / t.lookups);
    const m = this.config.hysteresis;
    const next = w.on ? rate >= be * (1 - m) : rate > be * (1 + m);
    if (next === w.on) return false;
    w.on = next;
    w.switches++;
    if (this.pooledMode) this.switched.set(category, next);
    this.onChange?.(this.describe(category, w));
    return true;
  }

  /** Switches made since the last sync request (the sync loop writes them right away). */
  get unsentSwitches(): number {
    return this.switched.size;
  }

  /** Takes the lookups and switches to send; the first request reads the whole horizon back. */
  syncRequest(): EconomicsSyncRequest {
    const add = this.pending;
    const switched = this.switched;
    this.pending = new Map();
    this.switched = new Map();
    const toBucket = this.bucket(this.now());
    const oldest = toBucket - this.horizonBuckets + 1;
    // Replicas may still add to the bucket before the last one read, so it is read again.
    const fromBucket = this.lastReadBucket === undefined ? oldest : Math.max(oldest, this.lastReadBucket - 1);
    return { add, switched, fromBucket, toBucket };
  }

  /**
   * The pool was not reached: what the request carried is sent with the next one. At least once: a
   * sync that timed out after Redis applied it counts its lookups twice, hits and lookups alike, so the
   * rate the switch reads barely moves.
   */
  syncFailed(req: EconomicsSyncRequest): void {
    const oldest = this.bucket(this.now()) - this.horizonBuckets + 1;
    for (const [category, byBucket] of req.add) {
      let mine = this.pending.get(category);
      if (!mine) this.pending.set(category, (mine = new Map()));
      for (const [b, t] of byBucket) if (b >= oldest) addTally(mine, b, t);
    }
    for (const [category, on] of req.switched) if (!this.switched.has(category)) this.switched.set(category, on);
  }

  /**
   * Takes the pool's answer: adopts the state another replica switched a category to, then applies
   * the same rule as `record` to the newest pooled lookups (up to `window`), so replicas that read the
   * same pool reach the same state. Returns the categories whose state changed.
   */
  syncApplied(req: EconomicsSyncRequest, res: EconomicsSyncResult): string[] {
    const oldest = req.toBucket - this.horizonBuckets + 1;
    for (const [category, read] of res.buckets) {
      let mine = this.pooledBuckets.get(category);
      if (!mine) this.pooledBuckets.set(category, (mine = new Map()));
      for (const [b, t] of read) mine.set(b, t);
    }
    for (const [category, mine] of this.pooledBuckets) {
      // Buckets read this time but now empty (expired) and buckets past the horizon go.
      for (const b of mine.keys()) if (b < oldest || (b >= req.fromBucket && !res.buckets.get(category)?.has(b))) mine.delete(b);
      if (mine.size === 0) this.pooledBuckets.delete(category);
    }
    this.lastReadBucket = req.toBucket;
    this.syncedAt = this.now();
    if (!this.config.enabled) return [];
    const changed = new Set<string>();
    for (const category of new Set([...this.windows.keys(), ...this.pooledBuckets.keys(), ...res.states.keys()])) {
      const w = this.window(category);
      w.pooled = this.newest(this.pooledBuckets.get(category));
      const state = res.states.get(category);
      if (state && !this.switched.has(category)) {
        w.switches = Math.max(w.switches, state.switches);
        if (state.on !== w.on) {
          w.on = state.on;
          changed.add(category);
          this.onChange?.(this.describe(category, w));
        }
      }
      if (w.pooled.lookups >= this.config.minSamples && this.decide(category, w, w.pooled)) changed.add(category);
    }
    return [...changed];
  }

  /** The newest buckets' lookups until they reach the window. */
  private newest(byBucket: Map<number, EconomicsTally> | undefined): EconomicsTally {
    const sum: EconomicsTally = { lookups: 0, hits: 0, msSum: 0 };
    if (!byBucket) return sum;
    for (const b of [...byBucket.keys()].sort((x, y) => y - x)) {
      const t = byBucket.get(b) as EconomicsTally;
      sum.lookups += t.lookups;
      sum.hits += t.hits;
      sum.msSum += t.msSum;
      if (sum.lookups >= this.config.window) break;
    }
    return sum;
  }

  private describe(category: string, w: CategoryWindow): CategoryEconomics {
    const t = this.pooledFresh && w.pooled ? w.pooled : { lookups: w.count, hits: w.hitCount, msSum: w.msSum };
    const lookupMs = t.lookups === 0 ? 0 : t.msSum / t.lookups;
    return {
      category,
      semanticOn: w.on,
      lookups: t.lookups,
      hits: t.hits,
      hitRate: t.lookups === 0 ? 0 : t.hits / t.lookups,
      breakEvenHitRate: this.breakEven(category, lookupMs),
      lookupMs,
      switches: w.switches,
    };
  }

  snapshot(): CategoryEconomics[] {
    return [...this.windows.entries()].map(([c, w]) => this.describe(c, w)).sort((a, b) => a.category.localeCompare(b.category));
  }

  /** One category's state (a category no lookup has reached: on, nothing measured). */
  get(category: string): CategoryEconomics {
    const w = this.windows.get(category);
    return w ? this.describe(category, w) : this.empty(category);
  }

  /** A category no semantic lookup has reached: on, nothing measured. */
  empty(category: string): CategoryEconomics {
    return this.describe(category, new CategoryWindow(1));
  }
}
