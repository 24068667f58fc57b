// Embeddings metrics, apart from the chat ones (whose tier and category labels mean nothing here).
import { Counter, type Registry } from "prom-client";

export interface EmbeddingsMetrics {
  requests: Counter<"status" | "model" | "cache">;
  tokens: Counter<"model">;
  degraded: Counter<"dependency">;
}

function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: L[]): Counter<L> {
  // One registry may host a second edge app (tests): reuse what is registered.
  return (registry.getSingleMetric(name) as Counter<L> | undefined) ?? new Counter({ name, help, labelNames, registers: [registry] });
}

export function embeddingsMetrics(registry: Registry): EmbeddingsMetrics {
  return {
    requests: counter(registry, "llmgw_edge_embeddings_requests_total", "Embeddings requests by outcome", ["status", "model", "cache"]),
    tokens: counter(registry, "llmgw_edge_embeddings_tokens_total", "Embedding input tokens sent to providers", ["model"]),
    degraded: counter(registry, "llmgw_edge_embeddings_degraded_total", "Embeddings requests served while a dependency failed", ["dependency"]),
  };
}
