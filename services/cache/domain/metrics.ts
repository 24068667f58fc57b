import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export interface CacheMetrics {
  lookups: Counter<"layer" | "result">;
  stores: Counter<"result">;
  storeFailures: Counter<"store" | "op" | "kind">;
  guardRejections: Counter<"check">;
  lookupSeconds: Histogram<"result">;
  similarity: Histogram<"layer">;
  /** Per category: 1 while the semantic layer pays (economics.ts), its measured hit rate and break-even. */
  semanticOn: Gauge<"category">;
  semanticHitRate: Gauge<"category">;
  semanticBreakEven: Gauge<"category">;
  /** Per category: 1 while audits put its wrong-hit rate over the bound (quality-guard.ts). */
  qualitySuspended: Gauge<"category">;
  qualityFloor: Gauge<"category">;
  /** Reads of the audits (the evaluator's GetCacheQuality) that failed; the last state stays. */
  qualityRefreshFailures: Counter;
  economicsSyncFailures: Counter;
  entryFloors: Gauge;
}

/** Registers the cache metrics on the caller's registry (one registry per process or per test). */
export function registerCacheMetrics(registry: Registry): CacheMetrics {
  const registers = [registry];
  return {
    lookups: new Counter({
      name: "llmgw_cache_lookups_total",
      help: "Cache lookups by layer that answered (exact, semantic, none) and result (hit, miss, skip)",
      labelNames: ["layer", "result"],
      registers,
    }),
    stores: new Counter({
      name: "llmgw_cache_stores_total",
      help: "Cache store attempts by result (stored, skipped, failed)",
      labelNames: ["result"],
      registers,
    }),
    storeFailures: new Counter({
      name: "llmgw_cache_store_failures_total",
      help: "Backend calls that failed or ran out of the time budget",
      labelNames: ["store", "op", "kind"],
      registers,
    }),
    guardRejections: new Counter({
      name: "llmgw_cache_guard_rejections_total",
      help: "Semantic candidates above threshold rejected by the precision guard, by check",
      labelNames: ["check"],
      registers,
    }),
    lookupSeconds: new Histogram({
      name: "llmgw_cache_lookup_seconds",
      help: "Cache lookup latency including embedding",
      labelNames: ["result"],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25],
      registers,
    }),
    similarity: new Histogram({
      name: "llmgw_cache_hit_similarity",
      help: "Similarity of served hits",
      labelNames: ["layer"],
      buckets: [0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.99, 1],
      registers,
    }),
    semanticOn: new Gauge({ name: "llmgw_cache_semantic_enabled", help: "1 while the semantic layer pays for the category, 0 while it is switched off (probes only)", labelNames: ["category"], registers }),
    semanticHitRate: new Gauge({ name: "llmgw_cache_semantic_hit_rate", help: "Semantic hit rate over the category's recent semantic lookups", labelNames: ["category"], registers }),
    semanticBreakEven: new Gauge({ name: "llmgw_cache_semantic_break_even_hit_rate", help: "Hit rate below which the category's semantic lookups cost more than they save", labelNames: ["category"], registers }),
    qualitySuspended: new Gauge({ name: "llmgw_cache_semantic_quality_suspended", help: "1 while audited semantic hits of the category are wrong more often than cache.quality.maxWrongHitRate allows (semantic lookups skipped)", labelNames: ["category"], registers }),
    qualityFloor: new Gauge({ name: "llmgw_cache_semantic_quality_floor", help: "Similarity below which semantic hits of the category are refused, learned from audits (cache.quality.maxWrongHitRate); 0 for none", labelNames: ["category"], registers }),
    entryFloors: new Gauge({ name: "llmgw_cache_entry_floors", help: "Cached entries barred at or below a similarity at which an audit refuted one of their hits (cache.quality.entryFloors)", registers }),
    economicsSyncFailures: new Counter({ name: "llmgw_cache_economics_sync_failures_total", help: "Syncs of the per-category economics with the replicas' pool (Redis) that failed; the lookups are sent with the next one", registers }),
    qualityRefreshFailures: new Counter({ name: "llmgw_cache_quality_refresh_failures_total", help: "Reads of the audited wrong-hit rates (evaluator GetCacheQuality) that failed; the last state is kept", registers }),
  };
}
