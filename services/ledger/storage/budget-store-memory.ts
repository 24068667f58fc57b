import type { BudgetState, BudgetStore, LimitsGuard, ScopeReservation, StoreReserveResult } from "../domain/budget.ts";
import type { RateCharge } from "../domain/rate-limit.ts";
import { MemoryRateLimiter, type TokenCharge } from "./rate-limiter-memory.ts";

interface Reservation {
  amount: number;
  keys: string[];
  expiresAt: number;
  swept: boolean;
  tokens?: TokenCharge;
}

const TOMBSTONE_MS = 86_400_000;

/** In-process BudgetStore (embedded mode): same semantics as the Redis script, atomic by being synchronous. */
export class MemoryBudgetStore implements BudgetStore {
  private readonly counters = new Map<string, number>();
  private readonly reservations = new Map<string, Reservation>();
  private readonly rates: MemoryRateLimiter;
  /** No reservation expires before this: sweep() walks the map only from then on (it ran on every reserve). */
  private nextExpiry = Number.POSITIVE_INFINITY;

  constructor(private readonly now: () => number = Date.now) {
    this.rates = new MemoryRateLimiter(now);
  }

  async reserve(id: string, scopes: ScopeReservation[], amount: number, ttlMs: number, _guard?: LimitsGuard, rate?: RateCharge): Promise<StoreReserveResult> {
    this.sweep();
    if (this.reservations.has(id)) return { admitted: true, state: "ok" };
    // Rate limits first, as in the Redis script: a refused request reserves and charges nothing.
    const rl = this.rates.check(rate);
    if (rl.result?.refusal) return { admitted: false, state: "ok", rate: rl.result };
    let state: BudgetState = "ok";
    for (const s of scopes) {
      const cur = this.counters.get(s.counterKey) ?? 0;
      if (s.hardNano !== null && cur + amount > s.hardNano) return { admitted: false, state: "hard", scope: s.counterKey };
      if (s.softNano !== null && cur + amount > s.softNano) state = "soft";
    }
    for (const s of scopes) this.counters.set(s.counterKey, (this.counters.get(s.counterKey) ?? 0) + amount);
    const tokens = rl.commit();
    const expiresAt = this.now() + ttlMs;
    if (expiresAt < this.nextExpiry) this.nextExpiry = expiresAt;
    this.reservations.set(id, { amount, keys: scopes.map((s) => s.counterKey), expiresAt, swept: false, ...(tokens ? { tokens } : {}) });
    return { admitted: true, state, ...(rl.result ? { rate: rl.result } : {}) };
  }

  async settle(id: string, actual: number, actualTokens?: number): Promise<boolean> {
    const r = this.reservations.get(id);
    if (!r) return false;
    this.rates.settle(r.tokens, actualTokens);
    for (const k of r.keys) this.counters.set(k, (this.counters.get(k) ?? 0) + actual - r.amount);
    this.reservations.delete(id);
    return true;
  }

  /** Gives the amount back, and the token estimate on the token rate limits (nothing was used). */
  release(id: string): Promise<boolean> {
    return this.settle(id, 0, 0);
  }

  async current(counterKey: string): Promise<number> {
    this.sweep();
    return this.counters.get(counterKey) ?? 0;
  }

  /** Expired reservations (a crashed caller) give their amount back. */
  private sweep(): void {
    const now = this.now();
    if (now < this.nextExpiry) return;
    let next = Number.POSITIVE_INFINITY;
    for (const [id, r] of this.reservations) {
      if (r.expiresAt > now) {
        if (r.expiresAt < next) next = r.expiresAt;
        continue;
      }
      if (r.swept) {
        this.reservations.delete(id);
        continue;
      }
      for (const k of r.keys) this.counters.set(k, (this.counters.get(k) ?? 0) - r.amount);
      // Keep a zero-amount tombstone for a day so a late settle still adds the real cost.
      r.amount = 0;
      r.swept = true;
      r.expiresAt = now + TOMBSTONE_MS;
      if (r.expiresAt < next) next = r.expiresAt;
    }
    this.nextExpiry = next;
  }
}
