import { z } from "zod";

/**
 * A bound on the semantic layer's wrong-hit rate per category, from audits (routing.shadow.cache_audit_rate:
 * the evaluator replays sampled semantic hits and judges the cached answer). Off unless
 * `maxWrongHitRate` is set. A category is suspended (semantic lookups skipped, exact hits still served)
 * once at least `minAudits` audits in the last `windowHours` put the lower end of the wrong-hit rate's
 * Wilson 95% interval above the bound: the audits show, with 95% confidence, more wrong hits than allowed.
 * With at least `minAudits` baselines, the upper end of the baseline's rate is taken off first
 * (excessWrongHitRate): a judge that rejects answers to their own question does not suspend the cache.
 * A suspended category takes no new audits, so it stays off until those audits age out of the window;
 * then it is served, and audited, again.
 */
export const qualityConfigSchema = z
  .object({
    maxWrongHitRate: z.number().gt(0).lt(1).optional(),
    minAudits: z.number().int().min(1).default(30),
    windowHours: z.number().positive().default(168),
    /** How often each replica reads the audits (GetCacheQuality of the evaluator). */
    refreshSeconds: z.number().positive().default(60),
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
  /** Audits whose baseline ran, and the upper end of the baseline's wrong rate (the judge's own floor). */
  baselineAudits?: number;
  baselineHigh?: number;
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

export interface CategoryQuality extends AuditedCategory {
  suspended: boolean;
}

export class QualityGuard {
  private state = new Map<string, CategoryQuality>();

  constructor(private readonly config: QualityConfig) {}

  get enabled(): boolean {
    return this.config.maxWrongHitRate !== undefined;
  }

  /** Replaces the state with the latest audits (categories without audits are served). */
  update(rows: readonly AuditedCategory[]): CategoryQuality[] {
    const bound = this.config.maxWrongHitRate;
    const next = new Map<string, CategoryQuality>();
    for (const r of rows) next.set(r.category, { ...r, suspended: bound !== undefined && r.audits >= this.config.minAudits && excessWrongHitRate(r, this.config.minAudits) > bound });
    const changed = [...next.values()].filter((q) => q.suspended !== (this.state.get(q.category)?.suspended ?? false));
    for (const [category, q] of this.state) if (q.suspended && !next.has(category)) changed.push({ ...q, audits: 0, wrong: 0, low: 0, suspended: false });
    this.state = next;
    return changed;
  }

  allows(category: string): boolean {
    return this.state.get(category)?.suspended !== true;
  }

  snapshot(): CategoryQuality[] {
    return [...this.state.values()];
  }
}
