// What the ledger recorded, as metrics: cost and baseline (USD, float: the tables are exact), savings
// by source, requests, and how far the consumer runs behind the edge (event age at commit).
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { bindCounter, bindHistogram, ChildCache, type BoundCounter } from "#libs/metrics/bound.ts";
import type { WriteResult } from "../storage/ledger-writer.ts";

const SOURCES = ["cache", "routing", "cascade", "batch"] as const;

export interface LedgerMetrics {
  /** For LedgerConsumer's onCommitted. */
  committed(results: WriteResult[]): void;
}

export function ledgerMetrics(registry: Registry, now: () => number = Date.now): LedgerMetrics {
  const registers = [registry];
  const requests = new Counter({ name: "llmgw_ledger_requests_total", help: "Requests recorded by the ledger, by tenant, model and cache outcome", labelNames: ["tenant", "model", "cache"], registers });
  const cost = new Counter({ name: "llmgw_ledger_cost_usd_total", help: "Recorded provider cost in USD, by tenant and model", labelNames: ["tenant", "model"], registers });
  const baseline = new Counter({ name: "llmgw_ledger_baseline_usd_total", help: "What the same answers would have cost on the baseline model, USD, by tenant", labelNames: ["tenant"], registers });
  const savings = new Counter({ name: "llmgw_ledger_savings_usd_total", help: "Savings against the baseline in USD by source (cache, routing, cascade, batch); may decrease-by-negative is clamped out", labelNames: ["source"], registers });
  const negative = new Counter({ name: "llmgw_ledger_negative_savings_usd_total", help: "Savings below zero (an escalation paid twice, a pricier fallback), by source, as a positive amount", labelNames: ["source"], registers });
  const lag = new Histogram({
    name: "llmgw_ledger_event_lag_seconds",
    help: "Age of a RequestCompleted event when the ledger committed it (completion at the edge -> commit)",
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
    registers,
  });
  const lagNow = new Gauge({ name: "llmgw_ledger_consumer_lag_seconds", help: "Age of the newest event of the last committed batch", registers });
  const lastCommit = new Gauge({ name: "llmgw_ledger_last_commit_timestamp_seconds", help: "Unix time of the ledger consumer's last committed batch", registers });
  // Labelled children bound once per (tenant, model, cache outcome): every event updates five or six
  // series, and prom-client's own labelled calls hash and validate the labels each time.
  interface Children {
    requests: BoundCounter;
    cost: BoundCounter;
    baseline: BoundCounter;
  }
  const children = new ChildCache<Children>();
  const childrenOf = (tenant: string, model: string, cache: string): Children => {
    const key = `${tenant}\u0000${model}\u0000${cache}`;
    return (
      children.get(key) ??
      children.set(key, {
        requests: bindCounter(requests, { tenant, model, cache }),
        cost: bindCounter(cost, { tenant, model }),
        baseline: bindCounter(baseline, { tenant }),
      })
    );
  };
  const bySourceUp = SOURCES.map((source) => bindCounter(savings, { source }));
  const bySourceDown = SOURCES.map((source) => bindCounter(negative, { source }));
  const lagChild = bindHistogram(lag, {});
  return {
    committed(results) {
      const t = now();
      let newest = Number.POSITIVE_INFINITY;
      for (const r of results) {
        if (!r.inserted) continue;
        const ev = r.event;
        const tenant = ev.context?.tenantId ?? "";
        const c = childrenOf(tenant, ev.model, ev.cacheOutcome);
        c.requests.inc();
        c.cost.inc(Number(r.cost.costUsd));
        c.baseline.inc(Number(r.cost.baselineUsd));
        const bySource = [r.cost.cacheSavingsUsd, r.cost.routingSavingsUsd, r.cost.cascadeSavingsUsd, r.cost.batchSavingsUsd];
        for (let i = 0; i < SOURCES.length; i++) {
          const v = Number(bySource[i]);
          // Prometheus counters only go up: negative savings are a counter of their own.
          if (v > 0) bySourceUp[i]!.inc(v);
          else if (v < 0) bySourceDown[i]!.inc(-v);
        }
        const done = Date.parse(ev.completedAt || ev.receivedAt);
        if (Number.isFinite(done)) {
          const age = Math.max(0, (t - done) / 1000);
          lagChild.observe(age);
          newest = Math.min(newest, age);
        }
      }
      if (Number.isFinite(newest)) lagNow.set(newest);
      lastCommit.set(t / 1000);
    },
  };
}
