// A BudgetStore that reports on the budgets it guards: refusals by scope, and how full each limited
// budget is (spent + reserved over the hard limit) for "budget near its limit" alerts. The fill is
// read off the request path, at most once per counter per interval, so admission costs nothing more.
import { Counter, Gauge, type Registry } from "prom-client";
import type { BudgetStore, ScopeReservation } from "../domain/budget.ts";

export interface ObservedBudgetOptions {
  /** Minimum time between two reads of one counter's fill (default 10 s). */
  intervalMs?: number;
  now?: () => number;
}

/** `t:<tenant>:<period>:<pk>` or `k:<tenant>:<key>:<period>:<pk>` (scopesFor's keys) → labels. */
export function scopeLabels(counterKey: string): { scope: string; tenant: string; key: string; period: string } {
  const p = counterKey.split(":");
  if (p[0] === "k" && p.length >= 5) return { scope: "key", tenant: p[1] ?? "", key: p[2] ?? "", period: p[3] ?? "" };
  return { scope: "tenant", tenant: p[1] ?? "", key: "", period: p[2] ?? "" };
}

export function observedBudgetStore(store: BudgetStore, registry: Registry, opts: ObservedBudgetOptions = {}): BudgetStore {
  const interval = opts.intervalMs ?? 10_000;
  const now = opts.now ?? Date.now;
  const refusals = new Counter({ name: "llmgw_budget_refusals_total", help: "Reservations refused at a hard budget limit, by scope (tenant or key) and period", labelNames: ["scope", "period"], registers: [registry] });
  const fill = new Gauge({
    name: "llmgw_budget_utilization_ratio",
    help: "Spent + reserved over the hard limit of a budget (1 = at the limit), refreshed on use",
    labelNames: ["scope", "tenant", "key", "period"],
    registers: [registry],
  });
  const lastRead = new Map<string, number>();

  const sample = (scopes: readonly ScopeReservation[]) => {
    const t = now();
    for (const s of scopes) {
      if (s.hardNano === null || s.hardNano <= 0) continue;
      if (t - (lastRead.get(s.counterKey) ?? Number.NEGATIVE_INFINITY) < interval) continue;
      lastRead.set(s.counterKey, t);
      if (lastRead.size > 50_000) lastRead.clear();
      const hard = s.hardNano;
      store.current(s.counterKey).then(
        (n) => fill.set(scopeLabels(s.counterKey), n / hard),
        () => lastRead.delete(s.counterKey),
      );
    }
  };

  const reserve: BudgetStore["reserve"] = async (reservationId, scopes, amountNano, ttlMs, guard, rate) => {
    const res = await store.reserve(reservationId, scopes, amountNano, ttlMs, guard, rate);
    // A rate-limit refusal is not a budget refusal (the edge counts those).
    if (!res.admitted && res.staleVersion === undefined && !res.rate?.refusal) {
      const l = scopeLabels(res.scope ?? "");
      refusals.inc({ scope: l.scope, period: l.period });
    }
    sample(scopes);
    return res;
  };
  // Everything else goes to the store as it is (whatever methods the interface grows).
  return new Proxy(store, {
    get(target, prop) {
      if (prop === "reserve") return reserve;
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
