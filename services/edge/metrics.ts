// Edge metrics: requests by outcome, tokens, cost, cache and routing decisions.
import { Counter, Histogram, type Registry } from "prom-client";
import { bindHistogram, type BoundHistogram } from "#libs/metrics/bound.ts";

export interface EdgeMetrics {
  requests: Counter<"status" | "model" | "tier" | "cache">;
  tokens: Counter<"model" | "kind">;
  costUsd: Counter<"model">;
  overhead: Histogram<"stream">;
  /** `overhead` for one answer kind, bound once (libs/metrics/bound.ts): observed on every request. */
  overheadOf: { json: BoundHistogram; stream: BoundHistogram };
  degraded: Counter<"dependency">;
  escalations: Counter<"from" | "to">;
}

export function edgeMetrics(registry: Registry): EdgeMetrics {
  const overhead = new Histogram({
    name: "llmgw_edge_overhead_seconds",
    help: "Time the gateway adds on top of provider time",
    labelNames: ["stream"],
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1],
    registers: [registry],
  });
  return {
    requests: new Counter({ name: "llmgw_edge_requests_total", help: "Chat requests by outcome", labelNames: ["status", "model", "tier", "cache"], registers: [registry] }),
    tokens: new Counter({ name: "llmgw_edge_tokens_total", help: "Provider tokens by kind", labelNames: ["model", "kind"], registers: [registry] }),
    costUsd: new Counter({ name: "llmgw_edge_cost_usd_total", help: "Provider cost (USD, float: the ledger is exact)", labelNames: ["model"], registers: [registry] }),
    overhead,
    overheadOf: { json: bindHistogram(overhead, { stream: "false" }), stream: bindHistogram(overhead, { stream: "true" }) },
    degraded: new Counter({ name: "llmgw_edge_degraded_total", help: "Requests served while a dependency failed", labelNames: ["dependency"], registers: [registry] }),
    escalations: new Counter({ name: "llmgw_edge_cascade_escalations_total", help: "Cascade escalations", labelNames: ["from", "to"], registers: [registry] }),
  };
}
