import { z } from "zod";

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

export class SemanticEconomics {
  private readonly windows = new Map<string, CategoryWindow>();

  constructor(
    readonly config: EconomicsConfig,
    private readonly onChange?: (e: CategoryEconomics) => void,
  ) {}

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

  /** Records a semantic lookup's outcome and time; may switch the category's layer off or on. */
  record(category: string, hit: boolean, ms: number): void {
    if (!this.config.enabled) return;
    const w = this.window(category);
    w.push(hit, ms);
    if (w.count < this.config.minSamples) return;
    const rate = w.hitCount / w.count;
    const be = this.breakEven(category, w.msSum / w.count);
    const m = this.config.hysteresis;
    const next = w.on ? rate >= be * (1 - m) : rate > be * (1 + m);
    if (next !== w.on) {
      w.on = next;
      w.switches++;
      this.onChange?.(this.describe(category, w));
    }
  }

  private describe(category: string, w: CategoryWindow): CategoryEconomics {
    const lookupMs = w.count === 0 ? 0 : w.msSum / w.count;
    return {
      category,
      semanticOn: w.on,
      lookups: w.count,
      hits: w.hitCount,
      hitRate: w.count === 0 ? 0 : w.hitCount / w.count,
      breakEvenHitRate: this.breakEven(category, lookupMs),
      lookupMs,
      switches: w.switches,
    };
  }

  snapshot(): CategoryEconomics[] {
    return [...this.windows.entries()].map(([c, w]) => this.describe(c, w)).sort((a, b) => a.category.localeCompare(b.category));
  }

  /** A category no semantic lookup has reached: on, nothing measured. */
  empty(category: string): CategoryEconomics {
    return this.describe(category, new CategoryWindow(1));
  }
}
