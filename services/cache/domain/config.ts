import { z } from "zod";
import { economicsConfigSchema } from "./economics.ts";
import { qualityConfigSchema } from "./quality-guard.ts";
import { privacyConfigSchema } from "./privacy/exclusion.ts";

/** Per-category knob set; unknown categories fall back to `default`. */
const thresholdsSchema = z.record(z.string(), z.number().min(0).max(1));
const ttlSchema = z.record(z.string(), z.number().int().min(0));

export const multiTurnModes = ["exact-history", "exact-only", "off"] as const;
export type MultiTurnMode = (typeof multiTurnModes)[number];

export const cacheConfigSchema = z
  .object({
    enabled: z.boolean().default(true),
    semanticEnabled: z.boolean().default(true),
    /**
     * Minimum cosine similarity for a semantic hit, per category, for short texts (at most
     * `shortTextMaxWords` content words). Short questions hinge on every content word, so the bar is
     * near "same content words". Measured with the local SIF+lexical embedder (sif-hybrid@2): see
     * services/cache/cli/eval-cache.ts and the cache README for the sweep this was chosen from.
     */
    thresholds: thresholdsSchema.default({
      default: 0.99,
      static_knowledge: 0.99,
      classification: 0.99,
      summarization: 0.99,
      code: 0.99,
      realtime: 0.99,
    }),
    /** Same for long texts (from `longTextMinWords` content words): rewording spreads over many words and lowers cosine without changing meaning. */
    longTextThresholds: thresholdsSchema.default({
      default: 0.72,
      static_knowledge: 0.72,
      classification: 0.85,
      summarization: 0.95,
      code: 0.95,
      realtime: 0.95,
    }),
    /**
     * Content-word count (the longer side) up to which `thresholds` apply; between this and
     * `longTextMinWords` the bar falls linearly, since each extra word dilutes what one changed word does to cosine.
     */
    shortTextMaxWords: z.number().int().min(0).default(2),
    /** Content-word count (the longer side) from which `longTextThresholds` apply. */
    longTextMinWords: z.number().int().min(1).default(12),
    /** Guard's structural checks (question word, person, specificity, slot swap, word order) apply up to this length. */
    structuralMaxWords: z.number().int().min(0).default(8),
    /** Reject near-misses differing in numbers, negations, entities, quotes, dates, units, comparisons. */
    precisionGuard: z.boolean().default(true),
    /** Requests sampled hotter than this are creative by nature: never cached. */
    maxTemperature: z.number().min(0).max(2).default(0.7),
    /**
     * exact-history: earlier turns must be identical (they are part of the partition), semantic match on the last user turn;
     * exact-only: multi-turn requests use only the exact layer; off: multi-turn requests are never cached.
     */
    /** Most clients omit temperature (provider default 1.0); caching them is what makes a cache pay. */
    cacheWhenTemperatureAbsent: z.boolean().default(true),
    multiTurn: z.enum(multiTurnModes).default("exact-history"),
    /** Categories that are never cached whatever the TTL says. */
    neverCacheCategories: z.array(z.string()).default(["creative"]),
    /** TTL in seconds per category; 0 means not cached. */
    ttlSeconds: ttlSchema.default({
      default: 24 * 3600,
      static_knowledge: 48 * 3600,
      summarization: 8 * 3600,
      classification: 18 * 3600,
      code: 24 * 3600,
      realtime: 5 * 60,
      creative: 0,
      // Vectors of a fixed model never go stale; a week bounds what an unused entry occupies.
      embeddings: 7 * 24 * 3600,
    }),
    /** Bound per tenant in each store that can enforce it; oldest (LRU) entries are evicted first. */
    maxEntriesPerTenant: z.number().int().positive().default(100_000),
    /**
     * Answers longer than this (characters of their JSON) are not stored: 2,048 embeddings of 1,536
     * dimensions are ~30 MB, and a few of them filled an embedded gateway's memory.
     */
    maxAnswerChars: z.number().int().positive().default(2 * 1024 * 1024),
    /** Bytes the in-memory exact store holds across tenants (embedded); the largest tenant's oldest entries go first. */
    maxMemoryBytes: z.number().int().positive().default(256 * 1024 * 1024),
    /**
     * Rows of the in-process semantic index: int8 with a 256-bit sign code per row (store/compact-partition.ts:
     * ~1.1 kB per entry instead of ~3.9 kB, and a Hamming pre-scan instead of a float one in large
     * partitions; cosines within ~0.002 of float32), or float32.
     */
    indexLayout: z.enum(["int8", "float32"]).default("int8"),
    /** Total wall-clock a lookup or store may spend on store I/O (Redis, Qdrant) before it gives up. */
    storeBudgetMs: z.number().positive().default(20),
    /** Nearest neighbours fetched per semantic lookup before the guard picks the first acceptable one. */
    semanticTopK: z.number().int().min(1).max(50).default(5),
    /** Requests that must never be cached (personal data, secrets): per-tenant detectors and regexes. */
    privacy: privacyConfigSchema.default({}),
    /** Per-category switch of the semantic layer on its measured hit rate against break-even. */
    economics: economicsConfigSchema.default({}),
    /** Per-category bound on the audited wrong-hit rate (off unless maxWrongHitRate is set). */
    quality: qualityConfigSchema.default({}),
    /**
     * The learned hit verifier (verifier/hit-verifier.ts) decides semantic candidates when its weights
     * match the embedder: on top of the length-aware threshold and guard, a candidate they reject is
     * still served when the verifier's probability reaches its threshold (per category; the weights'
     * own threshold otherwise).
     */
    verifier: z
      .object({
        enabled: z.boolean().default(true),
        thresholds: z.record(z.string(), z.number().min(0).max(1)).default({}),
      })
      .strict()
      .default({}),
  })
  .strict();

export type CacheConfig = z.infer<typeof cacheConfigSchema>;
export type CacheConfigInput = z.input<typeof cacheConfigSchema>;

export const defaultCacheConfig: CacheConfig = cacheConfigSchema.parse({});

export function thresholdFor(config: CacheConfig, category: string, long = false): number {
  const table = long ? config.longTextThresholds : config.thresholds;
  return table[category] ?? table["default"] ?? 0.99;
}

/** Threshold for a text of `words` content words (the longer side): short bar, linear ramp, long bar. */
export function thresholdForLength(config: CacheConfig, category: string, words: number): number {
  const short = thresholdFor(config, category, false);
  const long = thresholdFor(config, category, true);
  const lo = config.shortTextMaxWords;
  const hi = config.longTextMinWords;
  if (words >= hi) return long;
  if (words <= lo || hi <= lo) return short;
  return short + ((long - short) * (words - lo)) / (hi - lo);
}

export function ttlMsFor(config: CacheConfig, category: string): number {
  const seconds = config.ttlSeconds[category] ?? config.ttlSeconds["default"] ?? 0;
  return seconds * 1000;
}
