// The batch queue as metrics: batches not yet finished, and how long the oldest has waited (as the
// batch worker saw them on its last pass; only the replica holding the worker lease reports them).
import { Gauge, type Registry } from "prom-client";
import type { BatchWorker } from "./batch-worker.ts";

export function registerBatchMetrics(registry: Registry, store: Pick<BatchWorker, "waiting">, now: () => number = Date.now): void {
  if (registry.getSingleMetric("llmgw_batch_queue_waiting")) return;
  new Gauge({
    name: "llmgw_batch_queue_waiting",
    help: "Batches not yet finished (validating, in progress, finalizing or cancelling)",
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
