// Builds the cache over the exact store and vector index the composition root hands it (memory or
// Redis; in-process index or Qdrant), with the local embedder unless an OpenAI-compatible embeddings
// endpoint is configured.
import type { Client } from "@connectrpc/connect";
import { CacheService } from "#libs/gen/llmgw/cache/v1/cache_pb.ts";
import type { EvaluatorService } from "#libs/gen/llmgw/evaluator/v1/evaluator_pb.ts";
import type { Settings } from "#libs/config/settings.ts";
import type { BuildContext, BuiltService } from "#libs/server/service-parts.ts";
import { cacheConfigSchema } from "./domain/config.ts";
import { BurstLogger } from "./domain/burst-logger.ts";
import { SemanticEconomics } from "./domain/economics.ts";
import { CacheEngine, economicsLog } from "./domain/engine.ts";
import { createLocalEmbedder } from "./domain/local-embedder.ts";
import { registerCacheMetrics } from "./domain/metrics.ts";
import { QualityGuard } from "./domain/quality-guard.ts";
import { SifHybridEmbedder } from "./domain/sif-embedder.ts";
import type { Embedder } from "./domain/types.ts";
import { HitVerifier, loadShippedVerifierWeights } from "./domain/verifier/hit-verifier.ts";
import { parseMasterKey, TenantCipher } from "./domain/privacy/tenant-cipher.ts";
import { EncryptedExactStore } from "./store/encrypted-exact-store.ts";
import { registerIndexMetrics } from "./store/index-metrics.ts";
import type { TextSeal } from "./store/semantic-entry.ts";
import type { EconomicsStore } from "./store/economics-store.ts";
import type { ExactStore } from "./store/exact-store.ts";
import { OpenAIEmbedder } from "./store/openai-embedder.ts";
import type { VectorIndex } from "./store/vector-index.ts";
import { startEconomicsSync } from "./economics-sync.ts";
import { startQualityRefresh } from "./quality-refresh.ts";
import { CacheServiceImpl } from "./service.ts";

/** The backends the cache uses; the composition root decides which implementations they are. */
export interface CacheBackends {
  exactStore(opts: { maxEntriesPerTenant: number; maxBytes: number }): ExactStore;
  /** `seal`: the tenant cipher when a master key is set (a shared index seals the entry text at rest). */
  vectorIndex(opts: { dim: number; embedderId: string; maxEntriesPerTenant: number; compact?: boolean; seal?: TextSeal }): VectorIndex;
  /** Where replicas pool the per-category economics; none in one process (its own lookups are all). */
  economicsStore?(opts: { retainMs: number }): EconomicsStore;
}

/** Resolves after `ms` at the latest (a timer that does not hold the process). */
function atMost(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    t.unref();
    void p.finally(() => {
      clearTimeout(t);
      resolve();
    });
  });
}

export function buildEmbedder(settings: Pick<Settings, "embeddings">): Embedder {
  const e = settings.embeddings;
  if (!e) return createLocalEmbedder();
  return new OpenAIEmbedder({ baseURL: e.baseUrl, apiKey: e.apiKey, model: e.model, dim: e.dim });
}

/** The shipped verifier, for the local embedder it was trained with (none for a remote embedder). */
export function buildVerifier(embedder: Embedder): HitVerifier | undefined {
  return embedder instanceof SifHybridEmbedder ? new HitVerifier(loadShippedVerifierWeights(), embedder) : undefined;
}

export async function buildCacheService(ctx: BuildContext<CacheBackends, { evaluator: Client<typeof EvaluatorService> }>): Promise<BuiltService<typeof CacheService>> {
  const config = cacheConfigSchema.parse(ctx.config.cache ?? {});
  const embedder = buildEmbedder(ctx.settings);
  const plain = ctx.backends.exactStore({ maxEntriesPerTenant: config.maxEntriesPerTenant, maxBytes: config.maxMemoryBytes });
  // Answers at rest are sealed per tenant when a master key is configured.
  const cipher = ctx.settings.cacheMasterKey ? new TenantCipher(parseMasterKey(ctx.settings.cacheMasterKey)) : undefined;
  const exact = cipher ? new EncryptedExactStore(plain, cipher) : plain;
  const vectors = ctx.backends.vectorIndex({ dim: embedder.dim, embedderId: `${embedder.name}@${embedder.version}`, maxEntriesPerTenant: config.maxEntriesPerTenant, compact: config.indexLayout === "int8", ...(cipher ? { seal: cipher } : {}) });
  // A shared index rebuilds from the persisted entries before the replica serves (it never fails the start).
  await vectors.start?.();
  registerIndexMetrics(ctx.registry, vectors);
  // The local embedder loads its word table (a second or two) on first use; pay it at start.
  if ("warm" in embedder && typeof embedder.warm === "function") embedder.warm();
  const verifier = buildVerifier(embedder);
  const metrics = registerCacheMetrics(ctx.registry);
  const quality = new QualityGuard(config.quality);
  const econ = config.economics;
  const econStore = econ.enabled ? ctx.backends.economicsStore?.({ retainMs: econ.horizonHours * 3_600_000 + 2 * econ.bucketSeconds * 1000 }) : undefined;
  const economics = new SemanticEconomics(econ, economicsLog(new BurstLogger(ctx.logger)), { pooled: econStore !== undefined });
  const engine = new CacheEngine({ config, exact, vectors, embedder, verifier, quality, economics, metrics, logger: ctx.logger });
  const econSync = econStore
    ? startEconomicsSync({ economics, store: econStore, logger: ctx.logger, metrics, onSynced: (categories) => categories.forEach((c) => engine.publishEconomics(c)) })
    : undefined;
  // Start from the pool's state, but a Redis that is away must not hold the start (2 s at most).
  if (econSync) await atMost(econSync.sync(), 2_000);
  // The bound on audited wrong hits, when configured: every replica reads the evaluator's audits.
  const refresh = quality.enabled ? startQualityRefresh({ guard: quality, config: config.quality, evaluator: ctx.clients.evaluator, logger: ctx.logger, metrics }) : undefined;
  ctx.logger.info({ exact: exact.kind, vectors: vectors.kind, economics: econStore?.kind ?? "local", embedder: engine.embedderId, verifier: engine.verifierActive, encrypted: exact !== plain, maxWrongHitRate: config.quality.maxWrongHitRate }, "cache ready");
  return {
    service: CacheService,
    impl: new CacheServiceImpl(engine),
    // Cache outages degrade hit rate, not availability: the service stays ready without Redis.
    ready: async () => true,
    close: async () => {
      refresh?.stop();
      econSync?.stop();
      await vectors.close?.();
    },
  };
}
