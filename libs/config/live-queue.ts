// The bounded queue for live traffic to one model deployment (models.<id>.queue), meant for self-hosted
// OpenAI-compatible servers (vLLM, Ollama, TGI...) that slow down for everyone when overloaded. Absent =
// off: the deployment keeps only its bulkhead (max_concurrency, a short queue, then a fallback or 503).
// Present: at most the model's max_concurrency calls run, up to max_queue more wait in FIFO order for at
// most max_wait_ms, and anything over that bound is refused with a 429 and Retry-After.
// See docs/live-queue.md.
import { z } from "zod";

export const liveQueueSchema = z
  .object({
    // Requests that may wait for a slot; one more is refused at once (429). 0: refuse whenever all slots are busy.
    max_queue: z.number().int().min(0).max(100_000).default(0),
    // Longest wait for a slot before a 429; absent = until the request's own attempt timeout / deadline.
    max_wait_ms: z.number().int().positive().optional(),
    // Micro-batching: waiting requests are released to the server together, as one wave, when `max_size`
    // of them wait (and that many slots are free) or the oldest has waited `max_age_ms`. Each is still its
    // own ordinary /v1/chat/completions call: the wave only lets the server's continuous batching take
    // them in one step instead of one by one. Absent = each request goes as soon as a slot is free.
    batch: z
      .object({
        max_size: z.number().int().min(2),
        max_age_ms: z.number().int().positive(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type LiveQueueConfig = z.infer<typeof liveQueueSchema>;

/** Checks against the model's own fields: a size flush must be able to happen at all. */
export function liveQueueIssues(q: LiveQueueConfig, maxConcurrency: number): { path: string[]; message: string }[] {
  const out: { path: string[]; message: string }[] = [];
  if (q.batch && q.batch.max_size > maxConcurrency) {
    out.push({ path: ["queue", "batch", "max_size"], message: `must not exceed the model's max_concurrency (${maxConcurrency}): a wave this size could never be released` });
  }
  if (q.batch && q.batch.max_size > q.max_queue) {
    out.push({ path: ["queue", "batch", "max_size"], message: `must not exceed queue.max_queue (${q.max_queue}): that many requests could never wait together` });
  }
  return out;
}
