// Builds the cache: Redis (mesh) or memory (embedded) for the exact layer; Qdrant when QDRANT_URL is
// set, else the in-process index, for the semantic layer; the local embedder unless an
// OpenAI-compatible embeddings endpoint is configured.
import { Redis } from "ioredis";
import { QdrantClient } from "@qdrant/js-client-rest";
import { CacheService } from "#libs/gen/llmgw/cache/v1/cache_pb.ts";
import type { BuildContext, BuiltService } from "#libs/server/service-parts.ts";
import { cacheConfigSchema } from "./domain/config.ts";
import { CacheEngine } from "./domain/engine.ts";
import { createLocalEmbedder } from "./domain/local-embedder.ts";
import { registerCacheMetrics } from "./domain/metrics.ts";
import type { Embedder } from "./domain/types.ts";
import type { ExactStore } from "./store/exact-store.ts";
import { InProcessVectorIndex } from "./store/inprocess-vector-index.ts";
import { MemoryExactStore } from "./store/memory-exact-store.ts";
import { OpenAIEmbedder } from "./store/openai-embedder.ts";
import { QdrantVectorIndex } from "./store/qdrant-vector-index.ts";
import { RedisExactStore } from "./store/redis-exact-store.ts";
import type { VectorIndex } from "./store/vector-index.ts";
import { CacheServiceImpl } from "./service.ts";

export function buildEmbedder(env: Record<string, string | undefined>): Embedder {
  const url = env.LLMGW_EMBEDDINGS_BASE_URL;
  if (!url) return createLocalEmbedder();
  return new OpenAIEmbedder({
    baseURL: url,
    apiKey: env.LLMGW_EMBEDDINGS_API_KEY ?? "none",
    model: env.LLMGW_EMBEDDINGS_MODEL ?? "text-embedding-3-small",
    dim: Number(env.LLMGW_EMBEDDINGS_DIM ?? 1536),
  });
}

export async function buildCacheService(ctx: BuildContext): Promise<BuiltService<typeof CacheService>> {
  const config = cacheConfigSchema.parse(ctx.config.cache ?? {});
  const embedder = buildEmbedder(ctx.env);
  let exact: ExactStore;
  let redis: Redis | undefined;
  if (ctx.mode === "mesh") {
    // Fail fast on a bad URL, but never block requests on Redis: no offline queue, no retries per call.
    redis = new Redis(ctx.env.REDIS_URL ?? "redis://127.0.0.1:6379", { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: false });
    redis.on("error", (e: Error) => ctx.logger.debug({ err: e.message }, "redis error"));
    exact = new RedisExactStore(redis, ctx.env.LLMGW_CACHE_PREFIX ?? "llmgw:cache");
  } else {
    exact = new MemoryExactStore({ maxEntriesPerTenant: config.maxEntriesPerTenant });
  }
  let vectors: VectorIndex;
  if (ctx.env.QDRANT_URL) {
    vectors = new QdrantVectorIndex({ client: new QdrantClient({ url: ctx.env.QDRANT_URL, apiKey: ctx.env.QDRANT_API_KEY }), embedderId: `${embedder.name}@${embedder.version}`, dim: embedder.dim });
  } else {
    vectors = new InProcessVectorIndex({ dim: embedder.dim, maxEntriesPerTenant: config.maxEntriesPerTenant });
  }
  // The local embedder loads its word table (a second or two) on first use; pay it at start.
  if ("warm" in embedder && typeof embedder.warm === "function") embedder.warm();
  const engine = new CacheEngine({ config, exact, vectors, embedder, metrics: registerCacheMetrics(ctx.registry), logger: ctx.logger });
  ctx.logger.info({ exact: exact.kind, vectors: vectors.kind, embedder: engine.embedderId }, "cache ready");
  return {
    service: CacheService,
    impl: new CacheServiceImpl(engine),
    // Cache outages degrade hit rate, not availability: the service stays ready without Redis.
    ready: async () => true,
    close: async () => {
      redis?.disconnect();
    },
  };
}
