// Budget admission while the shared store (Redis) is unreachable, by the configured outage mode.
// `local`: this replica admits against its share of what it last saw remaining under each hard limit,
// share = (hard - last seen counter) / replicas seen alive. Every replica keeping to its share keeps
// the sum under the limit as of the last state seen; the reservations below fit their share whole, so
// no replica passes it. What it admits is journaled and pushed to the store when it is back ("settles
// later"). `open` journals without a check; `closed` admits nothing.
import { LruMap } from "#libs/collections/lru-map.ts";
import type { BudgetOutageMode } from "#libs/config/resilience.ts";
import type { BudgetState, ScopeReservation, StoreReserveResult } from "./budget.ts";

export interface JournalEntry {
  reservationId: string;
  scopes: ScopeReservation[];
  amountNano: number;
  /** Set once the request's cost is known (settled during the outage); 0 = released. */
  actualNano?: number;
}

/** Why a request was not admitted locally: the edge answers 503, never 429 (the budget may be left). */
export interface OutageRefusal {
  unavailable: string;
}

export type OutageVerdict = StoreReserveResult | OutageRefusal;

export const isRefusal = (v: OutageVerdict): v is OutageRefusal => "unavailable" in v;

export interface OutageAdmissionOptions {
  mode: BudgetOutageMode;
  /** Replicas assumed at least, whatever fewer were seen alive. */
  minReplicas: number;
  /** Bounds the memory of counters seen and of the journal. */
  maxCounters?: number;
  maxJournal?: number;
}

export class OutageAdmission {
  /**
   * Counter value (nano-USD, spent + reserved) last seen in the store, by counter key; the least recently
   * learned counter goes first, from `limited` too.
   */
  private readonly known: LruMap<string, number>;
  /** Counters with a hard limit, re-read on each heartbeat so the last state stays fresh. */
  private readonly limited: LruMap<string, true>;
  /** Admitted locally since the outage began, by counter key. */
  private readonly used = new Map<string, number>();
  private readonly journal = new Map<string, JournalEntry>();
  /** Reservations made in the store before the outage and settled during it: replayed on recovery. */
  private readonly settles = new Map<string, number>();
  private replicasSeen = 1;

  constructor(private readonly o: OutageAdmissionOptions) {
    const max = o.maxCounters ?? 100_000;
    this.limited = new LruMap({ max: Math.min(10_000, max) });
    this.known = new LruMap({ max, onEvict: (key) => this.limited.delete(key) });
  }

  get mode(): BudgetOutageMode {
    return this.o.mode;
  }

  /** After a reservation in the store: each scope's counter value after it. */
  learn(scopes: readonly ScopeReservation[], counters: readonly number[]): void {
    scopes.forEach((s, i) => {
      const v = counters[i];
      if (v === undefined) return;
      this.remember(s.counterKey, v);
      if (s.hardNano !== null) this.watch(s.counterKey);
    });
  }

  /**
   * After the store refused a reservation at `counterKey`'s hard limit: its counter is above
   * hard - amount, a lower bound worth keeping (the value itself is not returned on a refusal).
   */
  refused(scopes: readonly ScopeReservation[], counterKey: string, amountNano: number): void {
    const s = scopes.find((x) => x.counterKey === counterKey);
    if (!s || s.hardNano === null) return;
    this.remember(counterKey, Math.max(this.known.peek(counterKey) ?? 0, s.hardNano - amountNano + 1));
    this.watch(counterKey);
  }

  /** Heartbeat: replicas alive and fresh values of the limited counters. */
  observed(replicas: number, values: ReadonlyMap<string, number>): void {
    this.replicasSeen = Math.max(1, replicas);
    for (const [k, v] of values) this.remember(k, v);
  }

  /** Counter keys to re-read on the next heartbeat. */
  watchedCounters(): string[] {
    return [...this.limited.keys()];
  }

  replicas(): number {
    return Math.max(this.o.minReplicas, this.replicasSeen);
  }

  admit(reservationId: string, scopes: readonly ScopeReservation[], amountNano: number): OutageVerdict {
    if (this.journal.has(reservationId)) return { admitted: true, state: "ok" };
    if (this.o.mode === "closed") return { unavailable: "Budget store unavailable (budgets.outage_mode closed)." };
    if (this.journal.size >= (this.o.maxJournal ?? 100_000)) return { unavailable: "Budget store unavailable and the local admission journal is full." };
    let state: BudgetState = "ok";
    if (this.o.mode === "local") {
      const n = this.replicas();
      for (const s of scopes) {
        if (s.hardNano === null && s.softNano === null) continue;
        const seen = this.known.peek(s.counterKey);
        if (seen === undefined) {
          if (s.hardNano !== null) return { unavailable: "Budget store unavailable and this budget's state is unknown to this replica." };
          continue;
        }
        const used = this.used.get(s.counterKey) ?? 0;
        if (s.hardNano !== null) {
          if (seen + used + amountNano > s.hardNano) return { admitted: false, state: "ok", scope: s.counterKey };
          const share = Math.floor((s.hardNano - seen) / n);
          if (used + amountNano > share) return { unavailable: "Budget store unavailable and this replica's share of the remaining budget is spent." };
        }
        if (s.softNano !== null && seen + used + amountNano > s.softNano) state = "soft";
      }
    }
    for (const s of scopes) this.used.set(s.counterKey, (this.used.get(s.counterKey) ?? 0) + amountNano);
    this.journal.set(reservationId, { reservationId, scopes: [...scopes], amountNano });
    return { admitted: true, state };
  }

  /** The request's cost (0 = release) while the store is away. */
  settle(reservationId: string, actualNano: number): void {
    const e = this.journal.get(reservationId);
    if (!e) {
      this.settles.set(reservationId, actualNano);
      return;
    }
    const before = e.actualNano ?? e.amountNano;
    e.actualNano = actualNano;
    for (const s of e.scopes) this.used.set(s.counterKey, (this.used.get(s.counterKey) ?? 0) + actualNano - before);
  }

  /** What to push to the store on recovery; `done` removes what was pushed. */
  pending(): { entries: JournalEntry[]; settles: Array<[string, number]> } {
    return { entries: [...this.journal.values()], settles: [...this.settles.entries()] };
  }

  pushed(entry: { reservationId: string }): void {
    const e = this.journal.get(entry.reservationId);
    if (e) {
      for (const s of e.scopes) this.used.set(s.counterKey, (this.used.get(s.counterKey) ?? 0) - (e.actualNano ?? e.amountNano));
      this.journal.delete(entry.reservationId);
    }
    this.settles.delete(entry.reservationId);
  }

  /** Admitted locally and not yet pushed (metrics, tests). */
  journaled(): number {
    return this.journal.size + this.settles.size;
  }

  private remember(key: string, value: number): void {
    this.known.set(key, value);
  }

  private watch(key: string): void {
    this.limited.set(key, true);
  }
}
