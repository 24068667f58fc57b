// Prometheus metrics of the live queues (deployment-queue.ts), on the executor's registry. In-flight
// calls are the executor's existing llmgw_executor_in_flight (the same calls hold the queue's slots).
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { DeploymentQueue, QueueObserver } from "./deployment-queue.ts";

export class QueueMetrics {
  private readonly wait: Histogram<"model" | "outcome">;
  private readonly refusals: Counter<"model" | "reason">;
  private readonly flushes: Counter<"model" | "trigger">;
  private readonly flushSize: Histogram<"model">;

  constructor(registry: Registry, queues: () => Iterable<[string, DeploymentQueue]>, limits: (model: string) => { concurrency: number; queue: number }) {
    new Gauge({
      name: "llmgw_executor_queue_depth",
      help: "Requests waiting for a slot in a deployment's live queue.",
      labelNames: ["model"],
      registers: [registry],
      collect() {
        for (const [model, q] of queues()) this.set({ model }, q.depth());
      },
    });
    new Gauge({
      name: "llmgw_executor_queue_limit",
      help: "A live queue's bounds: bound=concurrency (max_concurrency) or queue (max_queue).",
      labelNames: ["model", "bound"],
      registers: [registry],
      collect() {
        for (const [model] of queues()) {
          const l = limits(model);
          this.set({ model, bound: "concurrency" }, l.concurrency);
          this.set({ model, bound: "queue" }, l.queue);
        }
      },
    });
    this.wait = new Histogram({
      name: "llmgw_executor_queue_wait_seconds",
      help: "Time a request waited for a slot in a live queue, by outcome (admitted, wait_timeout).",
      labelNames: ["model", "outcome"],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30],
      registers: [registry],
    });
    this.refusals = new Counter({
      name: "llmgw_executor_queue_rejections_total",
      help: "Requests a live queue refused with a 429, by reason (queue_full, wait_timeout).",
      labelNames: ["model", "reason"],
      registers: [registry],
    });
    this.flushes = new Counter({
      name: "llmgw_executor_queue_flushes_total",
      help: "Micro-batch waves a live queue released, by trigger (size, age).",
      labelNames: ["model", "trigger"],
      registers: [registry],
    });
    this.flushSize = new Histogram({
      name: "llmgw_executor_queue_flush_size",
      help: "Requests released together per micro-batch wave.",
      labelNames: ["model"],
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
      registers: [registry],
    });
  }

  observer(model: string): QueueObserver {
    return {
      admitted: (ms) => this.wait.observe({ model, outcome: "admitted" }, ms / 1000),
      refused: (reason, ms) => {
        this.refusals.inc({ model, reason });
        if (reason === "wait_timeout") this.wait.observe({ model, outcome: "wait_timeout" }, ms / 1000);
      },
      flushed: (trigger, size) => {
        this.flushes.inc({ model, trigger });
        this.flushSize.observe({ model }, size);
      },
    };
  }
}
