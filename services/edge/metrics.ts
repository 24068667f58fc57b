// Edge metrics: requests by outcome, tokens, cost, cache and routing decisions.
import { Counter, Histogram, type Registry } from "prom-client";

export interface EdgeMetrics {
  requests: Counter<"status" | "model" | "tier" | "cache">;
  tokens: Counter<"model" | "kind">;
  costUsd: Counter<"model">;
  overhead: Histogram<"stream">;
  degraded: Counter<"dependency">;
  escalations: Counter<"from" | "to">;
}

export function edgeMetrics(registry: Registry): EdgeMetrics {
  return {
    requests: new Counter({ name: "llmgw_edge_requests_total", help: "Chat requests by outcome", labelNames: ["status", "model", "tier", "cache"], registers: [registry] }),
    tokens: new Counter({ name: "llmgw_edge_tokens_total", help: "Provider tokens by kind", labelNames: ["model", "kind"], registers: [registry] }),
    costUsd: new Counter({ name: "llmgw_edge_cost_usd_total", help: "Provider cost (USD, float: the ledger is exact)", labelNames: ["model"], registers: [registry] }),
    overhead: new Histogram({
      name: "llmgw_edge_overhead_seconds",
      help: "Time the gateway adds on top of provider time",
      labelNames: ["stream"],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1],
      registers: [registry],
    }),
    degraded: new Counter({ name: "llmgw_edge_degraded_total", help: "Requests served while a dependency failed", labelNames: ["dependency"], registers: [registry] }),
    escalations: new Counter({ name: "llmgw_edge_cascade_escalations_total", help: "Cascade escalations", labelNames: ["from", "to"], registers: [registry] }),
  };
}
