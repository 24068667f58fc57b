import type { BudgetState, BudgetStore, ScopeReservation, StoreReserveResult } from "../domain/budget.ts";

interface Reservation {
  amount: number;
  keys: string[];
  expiresAt: number;
  swept: boolean;
}

const TOMBSTONE_MS = 86_400_000;

/** In-process BudgetStore (embedded mode): same semantics as the Redis script, atomic by being synchronous. */
export class MemoryBudgetStore implements BudgetStore {
  private readonly counters = new Map<string, number>();
  private readonly reservations = new Map<string, Reservation>();

  constructor(private readonly now: () => number = Date.now) {}

  async reserve(id: string, scopes: ScopeReservation[], amount: number, ttlMs: number): Promise<StoreReserveResult> {
    this.sweep();
    if (this.reservations.has(id)) return { admitted: true, state: "ok" };
    let state: BudgetState = "ok";
    for (const s of scopes) {
      const cur = this.counters.get(s.counterKey) ?? 0;
      if (s.hardNano !== null && cur + amount > s.hardNano) return { admitted: false, state: "hard", scope: s.counterKey };
      if (s.softNano !== null && cur + amount > s.softNano) state = "soft";
    }
    for (const s of scopes) this.counters.set(s.counterKey, (this.counters.get(s.counterKey) ?? 0) + amount);
    this.reservations.set(id, { amount, keys: scopes.map((s) => s.counterKey), expiresAt: this.now() + ttlMs, swept: false });
    return { admitted: true, state };
  }

  async settle(id: string, actual: number): Promise<boolean> {
    const r = this.reservations.get(id);
    if (!r) return false;
    for (const k of r.keys) this.counters.set(k, (this.counters.get(k) ?? 0) + actual - r.amount);
    this.reservations.delete(id);
    return true;
  }

  release(id: string): Promise<boolean> {
    return this.settle(id, 0);
  }

  async current(counterKey: string): Promise<number> {
    this.sweep();
    return this.counters.get(counterKey) ?? 0;
  }

  /** Expired reservations (a crashed caller) give their amount back. */
  private sweep(): void {
    const now = this.now();
    for (const [id, r] of this.reservations) {
      if (r.expiresAt > now) continue;
      if (r.swept) {
        this.reservations.delete(id);
        continue;
      }
      for (const k of r.keys) this.counters.set(k, (this.counters.get(k) ?? 0) - r.amount);
      // Keep a zero-amount tombstone for a day so a late settle still adds the real cost.
      r.amount = 0;
      r.swept = true;
      r.expiresAt = now + TOMBSTONE_MS;
    }
  }
}
