import { z } from "zod";
import type { SimilarityCut } from "#libs/stats/similarity-cuts.ts";

/**
 * A bound on the semantic layer's wrong-hit rate per category, from audits (routing.shadow.cache_audit_rate:
 * the evaluator replays sampled semantic hits and judges the cached answer). Off unless
 * `maxWrongHitRate` is set. A category is suspended (semantic lookups skipped, exact hits still served)
 * once at least `minAudits` audits in the last `windowHours` put the lower end of the wrong-hit rate's
 * Wilson 95% interval above the bound: the audits show, with 95% confidence, more wrong hits than allowed.
 * With at least `minAudits` baselines, the upper end of the baseline's rate is taken off first
 * (excessWrongHitRate): a judge that rejects answers to their own question does not suspend the cache.
 * Before suspending, the guard tries to raise the bar instead: the lowest similarity floor above which
 * the audits show, with 95% confidence, no more wrong hits than allowed (chooseFloor). With one, semantic
 * hits below it are refused and the rest are served (and audited) as before; without one, the category
 * is suspended. A suspended category takes no new audits, so it stays off until those audits age out of
 * the window; then it is served, and audited, again. A floor likewise goes once the audits below it age out.
 *
 * Per cached entry (`entryFloors`, with the bound set): an audit that refutes a hit on an entry, where
 * the judge accepted the cached answer for its own question (or no baseline ran), bars that entry from
 * serving at or below the refuted similarity, whatever its category's state. One refutation is enough:
 * the bar only refuses, and only that entry, below a similarity at which it was shown wrong.
 */
export const qualityConfigSchema = z
  .object({
    maxWrongHitRate: z.number().gt(0).lt(1).optional(),
    minAudits: z.number().int().min(1).default(30),
    windowHours: z.number().positive().default(168),
    /** How often each replica reads the audits (GetCacheQuality of the evaluator). */
    refreshSeconds: z.number().positive().default(60),
    /** Bar each refuted entry at its refuted similarity (see above). */
    entryFloors: z.boolean().default(true),
    /** Refuted entries kept, newest first. */
    maxEntryFloors: z.number().int().min(0).default(10_000),
  })
  .strict();

export type QualityConfig = z.infer<typeof qualityConfigSchema>;

/** One category's audits, as the evaluator reports them. */
export interface AuditedCategory {
  category: string;
  audits: number;
  wrong: number;
  /** Lower end of the wrong-hit rate's Wilson 95% interval. */
  low: number;
  /** Audits whose baseline ran, and the ends of the baseline's wrong rate (the judge's own floor). */
  baselineAudits?: number;
  baselineHigh?: number;
  baselineLow?: number;
  /** The audits at or above each similarity where audits start, ascending, with the wrong-hit rate's upper end. */
  cuts?: readonly SimilarityCut[];
}

/**
 * The wrong-hit rate the cache is surely responsible for: the lower end of the audited rate, less the
 * upper end of the baseline's (how often the judge rejects an answer to its own question) once there are
 * at least `minAudits` baselines. Both ends at 95%, so the excess is conservative.
 */
export function excessWrongHitRate(r: AuditedCategory, minAudits: number): number {
  const floor = (r.baselineAudits ?? 0) >= minAudits ? (r.baselineHigh ?? 0) : 0;
  return r.low - floor;
}

/**
 * The lowest similarity above which the audits show the wrong-hit rate within the bound: at least
 * `minAudits` audits there, the upper end of their rate, less the lower end of the baseline's (once there
 * are `minAudits` baselines), at most `bound`. Both ends at 95%, so the floor is conservative. It must
 * leave out at least one wrong hit. Undefined when no cut qualifies.
 */
export function chooseFloor(r: AuditedCategory, bound: number, minAudits: number): number | undefined {
  const judgeFloor = (r.baselineAudits ?? 0) >= minAudits ? (r.baselineLow ?? 0) : 0;
  for (const c of r.cuts ?? []) if (c.audits >= minAudits && c.wrong < r.wrong && c.high - judgeFloor <= bound) return c.similarity;
  return undefined;
}

/** An entry whose hit an audit refuted: it serves only above `similarity`. */
export interface RefutedEntry {
  tenant: string;
  entryId: string;
  similarity: number;
}

export interface CategoryQuality extends AuditedCategory {
  suspended: boolean;
  /** Semantic hits below this similarity are refused; 0 for none. */
  floor: number;
}

export class QualityGuard {
  private state = new Map<string, CategoryQuality>();
  /** tenant \0 entry id → the similarity at or below which the entry does not serve. */
  private entries = new Map<string, number>();

  constructor(private readonly config: QualityConfig) {}

  get enabled(): boolean {
    return this.config.maxWrongHitRate !== undefined;
  }

  /** Replaces the state with the latest audits (categories without audits are served). */
  update(rows: readonly AuditedCategory[]): CategoryQuality[] {
    const bound = this.config.maxWrongHitRate;
    const { minAudits } = this.config;
    const next = new Map<string, CategoryQuality>();
    for (const r of rows) {
      const over = bound !== undefined && r.audits >= minAudits && excessWrongHitRate(r, minAudits) > bound;
      const floor = over ? chooseFloor(r, bound, minAudits) : undefined;
      next.set(r.category, { ...r, suspended: over && floor === undefined, floor: floor ?? 0 });
    }
    const before = (category: string) => this.state.get(category) ?? { suspended: false, floor: 0 };
    const changed = [...next.values()].filter((q) => q.suspended !== before(q.category).suspended || q.floor !== before(q.category).floor);
    for (const [category, q] of this.state) if ((q.suspended || q.floor > 0) && !next.has(category)) changed.push({ ...q, audits: 0, wrong: 0, low: 0, suspended: false, floor: 0 });
    this.state = next;
    return changed;
  }

  allows(category: string): boolean {
    return this.state.get(category)?.suspended !== true;
  }

  /** The similarity below which a semantic hit of this category is refused (0: none). */
  floor(category: string): number {
    return this.state.get(category)?.floor ?? 0;
  }

  snapshot(): CategoryQuality[] {
    return [...this.state.values()];
  }

  /** Replaces the per-entry floors with the latest refuted entries (newest first); returns how many hold. */
  updateEntries(refuted: readonly RefutedEntry[]): number {
    const next = new Map<string, number>();
    if (this.config.entryFloors) {
      for (const r of refuted) {
        const key = `${r.tenant}\0${r.entryId}`;
        if (!next.has(key) && next.size >= this.config.maxEntryFloors) continue;
        next.set(key, Math.max(next.get(key) ?? 0, r.similarity));
      }
    }
    this.entries = next;
    return next.size;
  }

  /** The similarity at or below which this entry does not serve (undefined: no audit refuted it). */
  entryFloor(tenant: string, entryId: string): number | undefined {
    return this.entries.size === 0 ? undefined : this.entries.get(`${tenant}\0${entryId}`);
  }

  get entryFloorCount(): number {
    return this.entries.size;
  }
}
