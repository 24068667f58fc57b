// The Batches API (/v1/files + /v1/batches): upload limits, the batch worker's pacing and lease.
import { z } from "zod";

export const batchesSchema = z
  .object({
    // An uploaded batch input file: at most this many bytes and request lines (OpenAI: 200 MB, 50,000).
    // Kept under the RPC message limits: the file travels to the ledger in one message.
    max_file_bytes: z.number().int().positive().default(32 * 1024 * 1024),
    max_lines: z.number().int().positive().default(50_000),
    // The worker polls provider batches from min to max interval, doubling while nothing changes.
    poll_min_ms: z.number().int().positive().default(1_000),
    poll_max_ms: z.number().int().positive().default(30_000),
    // One worker across replicas: it holds a lease this long and renews it every poll; a replica
    // that dies is replaced once its lease expires.
    lease_ttl_ms: z.number().int().positive().default(30_000),
    // A batch not finished this long after creation expires (completion_window "24h").
    expiry_seconds: z.number().int().positive().default(86_400),
    // Lines classified, routed and looked up in the cache side by side.
    route_concurrency: z.number().int().positive().default(16),
    // Lines whose model's provider has no batch API (e.g. a self-hosted server) run as ordinary calls
    // through the executor, at most this many at a time per batch worker: a trickle beside live traffic.
    live_concurrency: z.number().int().positive().default(2),
    // Gateway-wide off switch for the worker (an edge that only serves the API, e.g. in a test).
    worker: z.boolean().default(true),
  })
  .strict();
export type BatchesConfig = z.infer<typeof batchesSchema>;
