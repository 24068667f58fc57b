// The batch queue as metrics: batches submitted through the gateway and not yet finished and
// accounted, and how long the oldest has waited (read at scrape time from the batch store).
import { Gauge, type Registry } from "prom-client";
import type { BatchStore } from "./batch-store.ts";

export function registerBatchMetrics(registry: Registry, store: Pick<BatchStore, "waiting">, now: () => number = Date.now): void {
  if (registry.getSingleMetric("llmgw_batch_queue_waiting")) return;
  new Gauge({
    name: "llmgw_batch_queue_waiting",
    help: "Batches submitted and not yet finished and accounted",
    registers: [registry],
    collect() {
      this.set(store.waiting().count);
    },
  });
  new Gauge({
    name: "llmgw_batch_queue_oldest_age_seconds",
    help: "How long the oldest unfinished batch has waited (0 when none)",
    registers: [registry],
    collect() {
      const oldest = store.waiting().oldest;
      this.set(oldest ? Math.max(0, (now() - oldest.getTime()) / 1000) : 0);
    },
  });
}
