import type { QdrantClient } from "@qdrant/js-client-rest";
import type { Redis } from "ioredis";
import type { WarnLogger } from "../domain/burst-logger.ts";
import { cacheConfigSchema, type CacheConfig, type CacheConfigInput } from "../domain/config.ts";
import { CacheEngine } from "../domain/engine.ts";
import { HashedNgramEmbedder } from "../domain/hashed-embedder.ts";
import type { CacheMetrics } from "../domain/metrics.ts";
import type { Embedder } from "../domain/types.ts";
import { InProcessVectorIndex } from "./inprocess-vector-index.ts";
import { MemoryExactStore } from "./memory-exact-store.ts";
import { QdrantVectorIndex } from "./qdrant-vector-index.ts";
import { RedisExactStore } from "./redis-exact-store.ts";

export interface CreateCacheEngineOptions {
  config?: CacheConfig | CacheConfigInput;
  /** Mesh mode: exact layer in Redis. Embedded mode: omit for the in-memory LRU. */
  redis?: Redis;
  redisPrefix?: string;
  /** Mesh mode: semantic layer in Qdrant. Embedded mode: omit for the in-process index. */
  qdrant?: QdrantClient;
  /** Defaults to the local hashed n-gram embedder (no network, no model file). */
  embedder?: Embedder;
  metrics?: CacheMetrics;
  logger?: WarnLogger;
}

/** Wires the engine from config and whichever backends the process has (embedded or mesh). */
export function createCacheEngine(o: CreateCacheEngineOptions = {}): CacheEngine {
  const config = cacheConfigSchema.parse(o.config ?? {});
  const embedder = o.embedder ?? new HashedNgramEmbedder();
  const exact = o.redis
    ? new RedisExactStore(o.redis, o.redisPrefix ?? "llmgw:cache")
    : new MemoryExactStore({ maxEntriesPerTenant: config.maxEntriesPerTenant });
  const vectors = !config.semanticEnabled
    ? undefined
    : o.qdrant
      ? new QdrantVectorIndex({ client: o.qdrant, embedderId: `${embedder.name}@${embedder.version}`, dim: embedder.dim })
      : new InProcessVectorIndex({ dim: embedder.dim, maxEntriesPerTenant: config.maxEntriesPerTenant });
  return new CacheEngine({ config, exact, vectors, embedder, metrics: o.metrics, logger: o.logger });
}
