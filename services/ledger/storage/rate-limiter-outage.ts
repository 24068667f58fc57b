// Rate limits while Redis is away (GuardedBudgetStore's outage path). Each ledger replica enforces its
// share of every limit, limit / replicas per window, in process: MemoryRateLimiter's GCRA with the
// limit divided (T multiplied) by the replica count. Replicas that each keep to their share admit
// together no more than the one Redis limiter would, without talking to each other. `open` admits past
// the share and counts it; `closed` never asks (the budget outage refuses everything first).
import type { BudgetOutageMode } from "#libs/config/resilience.ts";
import type { StoreRate } from "../domain/budget.ts";
import type { RateCharge } from "../domain/rate-limit.ts";
import { MemoryRateLimiter, type TokenCharge } from "./rate-limiter-memory.ts";

export class OutageRateLimiter {
  private readonly limiter: MemoryRateLimiter;
  /** Reservations charged here, with their token estimate: settled locally, never charged twice. */
  private readonly charged = new Map<string, TokenCharge | undefined>();
  private overShare = 0;

  constructor(
    private readonly mode: BudgetOutageMode,
    now: () => number = Date.now,
  ) {
    this.limiter = new MemoryRateLimiter(now);
  }

  /**
   * Checks the request against this replica's share; `commit` charges it (call it once the budget
   * admits too). In `open` a request past the share is admitted uncharged, and counted.
   */
  check(reservationId: string, rate: RateCharge | undefined, replicas: number): { result?: StoreRate; commit: () => void } {
    if (!rate || rate.limiters.length === 0 || this.charged.has(reservationId)) return { commit: () => undefined };
    const n = Math.max(1, replicas);
    const r = this.limiter.check({ tokens: rate.tokens, limiters: rate.limiters.map((l) => ({ ...l, limit: l.limit / n })) });
    // The headers keep the configured limit (integers on the wire); remaining and reset are this replica's share.
    const s = r.result?.status;
    const status = s ? { ...s, limitRequests: Math.round(s.limitRequests * n), limitTokens: Math.round(s.limitTokens * n) } : undefined;
    const refusal = r.result?.refusal;
    if (refusal && this.mode !== "open") return { result: { refusal, ...(status ? { status } : {}) }, commit: () => undefined };
    return {
      ...(status ? { result: { status } } : {}),
      commit: () => {
        if (refusal) this.overShare++;
        this.charged.set(reservationId, refusal ? undefined : r.commit());
      },
    };
  }

  /** The actual tokens of a reservation charged here (0 on a release: the estimate goes back). */
  settle(reservationId: string, actualTokens: number | undefined): void {
    if (!this.charged.has(reservationId)) return;
    this.limiter.settle(this.charged.get(reservationId), actualTokens);
    this.charged.delete(reservationId);
  }

  /**
   * Redis is back: what was charged here is not settled here any more. The limiter keeps its state,
   * so a Redis that flaps does not hand out a fresh share at each outage.
   */
  recovered(): void {
    this.charged.clear();
  }

  /** Admissions past the share (`open` only), since start (logs, tests). */
  admittedOverShare(): number {
    return this.overShare;
  }
}
