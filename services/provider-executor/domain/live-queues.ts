// The live queues of the deployments that configure one (models.<id>.queue), their metrics, and the
// 429 a refusal becomes. The engine takes a slot before its breaker/bulkhead lease and holds it for
// the whole provider call (for a stream, until the last chunk).
import type { Registry } from "prom-client";
import { errors, type GatewayError } from "#libs/errors/openai-error.ts";
import { DeploymentQueue, type QueueRefusal } from "./deployment-queue.ts";
import type { Deployment } from "./deployments.ts";
import { QueueMetrics } from "./queue-metrics.ts";

export class LiveQueues {
  private readonly queues = new Map<string, DeploymentQueue>();

  constructor(deployments: Iterable<Deployment>, registry: Registry) {
    const limits = new Map<string, { concurrency: number; queue: number }>();
    const metrics = new QueueMetrics(registry, () => this.queues, (m) => limits.get(m) ?? { concurrency: 0, queue: 0 });
    for (const dep of deployments) {
      const q = dep.queue;
      if (!q) continue;
      limits.set(dep.model, { concurrency: dep.maxConcurrency, queue: q.max_queue });
      this.queues.set(
        dep.model,
        new DeploymentQueue({
          maxConcurrency: dep.maxConcurrency,
          maxQueue: q.max_queue,
          ...(q.max_wait_ms !== undefined ? { maxWaitMs: q.max_wait_ms } : {}),
          ...(q.batch ? { batch: { maxSize: q.batch.max_size, maxAgeMs: q.batch.max_age_ms } } : {}),
          observer: metrics.observer(dep.model),
        }),
      );
    }
  }

  get(model: string): DeploymentQueue | undefined {
    return this.queues.get(model);
  }
}

/** OpenAI's 429 for a request over a deployment's bound; Retry-After reaches the client through the failure event. */
export function queueRefusalError(model: string, reason: QueueRefusal, retryAfterSec: number): GatewayError {
  const why = reason === "queue_full" ? "its queue is full" : "no slot came free within its maximum wait";
  return errors.rateLimited(`Model '${model}' is at capacity (${why}); retry after ${retryAfterSec} s.`, retryAfterSec);
}
