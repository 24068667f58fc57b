import { thresholdForLength, type CacheConfig } from "./config.ts";
import { contentWordCount, precisionGuard, type GuardCheck } from "./precision-guard.ts";

export type SemanticDecision = { accept: true } | { accept: false; reason: "below-threshold" | `guard:${GuardCheck}` };

/**
 * Whether a nearest-neighbour candidate may be served for a query (pure; used by the engine and the
 * evaluation alike). Length-aware: short texts need a higher similarity (the bar falls linearly with
 * content words) and face the structural guard checks; long texts get a lower bar but still the content
 * checks (numbers, negation, entities...).
 */
export function decideSemantic(query: string, candidate: string, score: number, category: string, config: CacheConfig): SemanticDecision {
  const words = Math.max(contentWordCount(query), contentWordCount(candidate));
  if (score < thresholdForLength(config, category, words)) return { accept: false, reason: "below-threshold" };
  if (config.precisionGuard) {
    const v = precisionGuard(query, candidate, { structuralMaxWords: config.structuralMaxWords });
    if (!v.ok) return { accept: false, reason: `guard:${v.check}` };
  }
  return { accept: true };
}
