// Audits of semantic cache hits cut by similarity: for each hundredth of similarity where audits start,
// the audits at or above it and the upper end of their wrong-hit rate. The evaluator reports them; the
// cache chooses a similarity floor from them (services/cache/domain/quality-guard.ts); eval:cache
// simulates that choice on labelled pairs.
import { wilsonInterval } from "./binomial.ts";

/**
 * The hundredth of similarity an audit counts under, rounded down (the epsilon keeps 0.29 from landing
 * at 0.28). The evaluator's SQL rounds the same way: floor(cache_similarity * 100 + 1e-9).
 */
export function similarityBucket(similarity: number): number {
  return Math.floor(similarity * 100 + 1e-9) / 100;
}

/** The audits of one category whose similarity is at or above `similarity`, and the wrong-hit rate's upper end among them. */
export interface SimilarityCut {
  similarity: number;
  audits: number;
  wrong: number;
  high: number;
}

/**
 * Cumulative cuts from per-hundredth buckets (any order): for each bucket's similarity, the audits at or
 * above it. What a similarity floor is chosen from: the lowest cut whose upper end is under a bound.
 */
export function similarityCuts(buckets: readonly { similarity: number; audits: number; wrong: number }[]): SimilarityCut[] {
  const desc = [...buckets].sort((a, b) => b.similarity - a.similarity);
  const out: SimilarityCut[] = [];
  let audits = 0;
  let wrong = 0;
  for (const b of desc) {
    audits += b.audits;
    wrong += b.wrong;
    out.push({ similarity: b.similarity, audits, wrong, high: wilsonInterval(wrong, audits)[1] });
  }
  return out.reverse();
}
