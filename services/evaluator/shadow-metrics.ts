// Shadow-test metrics beyond the outcome counter: the scores the judges gave (per category, pass or
// fail), the cache audits' verdicts, and the day's shadow spend against its cap, read from the store
// when Prometheus scrapes.
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { ShadowResultStore } from "./storage/shadow-results.ts";

export interface ShadowMetrics {
  score(category: string, ok: boolean, score: number): void;
  /** A semantic cache hit's audit: the cached answer fit the question, or it was a wrong hit. */
  cacheAudit(category: string, fits: boolean): void;
}

export function shadowMetrics(registry: Registry, spend: { store: Pick<ShadowResultStore, "spentToday">; capUsd: number; now?: () => Date }): ShadowMetrics {
  const scores = new Histogram({
    name: "llmgw_shadow_score",
    help: "Shadow-test score of the candidate against the served answer (0..1), by category and verdict",
    labelNames: ["category", "verdict"],
    buckets: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1],
    registers: [registry],
  });
  new Gauge({
    name: "llmgw_shadow_spend_usd",
    help: "Shadow spend of the current UTC day (spent + reserved), USD",
    registers: [registry],
    async collect() {
      const day = (spend.now?.() ?? new Date()).toISOString().slice(0, 10);
      const s = await spend.store.spentToday(day).catch(() => undefined);
      if (s) this.set(Number(s.spentUsd) + Number(s.reservedUsd));
    },
  });
  new Gauge({ name: "llmgw_shadow_daily_cap_usd", help: "The daily shadow-spend cap (routing.shadow.daily_cap_usd), USD", registers: [registry] }).set(spend.capUsd);
  const audits = new Counter({
    name: "llmgw_cache_audits_total",
    help: "Audited semantic cache hits by category and verdict (fits: the cached answer fit the question; wrong: a wrong hit)",
    labelNames: ["category", "verdict"],
    registers: [registry],
  });
  return {
    score: (category, ok, score) => scores.observe({ category, verdict: ok ? "pass" : "fail" }, score),
    cacheAudit: (category, fits) => audits.inc({ category, verdict: fits ? "fits" : "wrong" }),
  };
}
