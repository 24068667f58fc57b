// Rate limiters in one process (embedded mode's budget store): the GCRA steps of
// domain/rate-limit.ts over a map of TATs, with the Redis script's semantics (check all, then charge
// all; a refused request charges nothing; the settle moves token TATs by actual − estimate).
import type { StoreRate } from "../domain/budget.ts";
import { costOf, gcra, refusalOf, statusOf, type RateCharge } from "../domain/rate-limit.ts";

/** What a reservation remembers to correct its token estimate at settlement. */
export interface TokenCharge {
  estimate: number;
  /** Token limiters' keys and their T (ms per token). */
  limiters: Array<{ key: string; t: number }>;
}

export class MemoryRateLimiter {
  private readonly tats = new Map<string, number>();
  private lastPrune = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** Checks every limiter; `commit` charges them (call it only if the budget admits too). */
  check(rate: RateCharge | undefined): { result?: StoreRate; commit: () => TokenCharge | undefined } {
    const limiters = rate?.limiters ?? [];
    if (limiters.length === 0) return { commit: () => undefined };
    const now = this.now();
    this.prune(now);
    const tokens = Math.max(0, Math.round(rate?.tokens ?? 0));
    const steps = limiters.map((l) => gcra(this.tats.get(l.key), now, costOf(l, tokens), l.limit, l.periodMs));
    const refusal = refusalOf(limiters, steps);
    const status = statusOf(limiters, steps);
    if (refusal) return { result: { refusal, status }, commit: () => undefined };
    return {
      result: { status },
      commit: () => {
        limiters.forEach((l, i) => this.tats.set(l.key, steps[i]?.newTat ?? now));
        const tok = limiters.filter((l) => l.kind === "tokens").map((l) => ({ key: l.key, t: l.periodMs / l.limit }));
        return tok.length > 0 ? { estimate: tokens, limiters: tok } : undefined;
      },
    };
  }

  /** Replaces the estimate by the actual tokens: a refund (fewer) or a debt (more). */
  settle(charge: TokenCharge | undefined, actualTokens: number | undefined): void {
    if (!charge || actualTokens === undefined) return;
    const d = actualTokens - charge.estimate;
    if (d === 0) return;
    const now = this.now();
    for (const { key, t } of charge.limiters) {
      const tat = this.tats.get(key) ?? 0;
      const next = (d > 0 ? Math.max(tat, now) : tat) + d * t;
      if (next > now) this.tats.set(key, next);
      else this.tats.delete(key);
    }
  }

  /** A TAT in the past is the same as none: dropped, so the map holds only limiters in use. */
  private prune(now: number): void {
    if (now - this.lastPrune < 10_000) return;
    this.lastPrune = now;
    for (const [k, tat] of this.tats) if (tat <= now) this.tats.delete(k);
  }
}
