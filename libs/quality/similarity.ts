// Local, deterministic text similarity: cosine of term-frequency vectors of character n-grams and of
// word n-grams over normalised text. No model, no download, no randomness; O(length) per text.
import { normaliseText } from "./extract.ts";

export type TermCounts = Map<string, number>;

/** Character n-grams of the normalised text, padded with a space at both ends (so word edges count). */
export function charNgrams(text: string, n = 3): TermCounts {
  const s = ` ${normaliseText(text)} `;
  const out: TermCounts = new Map();
  if (s.trim().length === 0) return out;
  for (let i = 0; i + n <= s.length; i++) {
    const g = s.slice(i, i + n);
    out.set(g, (out.get(g) ?? 0) + 1);
  }
  return out;
}

/** Word n-grams for every size 1..maxN of the normalised text. */
export function wordNgrams(text: string, maxN = 2): TermCounts {
  const n = normaliseText(text);
  const words = n.length === 0 ? [] : n.split(" ");
  const out: TermCounts = new Map();
  for (let size = 1; size <= maxN; size++) {
    for (let i = 0; i + size <= words.length; i++) {
      const g = words.slice(i, i + size).join(" ");
      out.set(g, (out.get(g) ?? 0) + 1);
    }
  }
  return out;
}

/** Cosine of two count vectors; 1 when both are empty, 0 when only one is. */
export function cosine(a: TermCounts, b: TermCounts): number {
  if (a.size === 0 && b.size === 0) return 1;
  if (a.size === 0 || b.size === 0) return 0;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let dot = 0;
  for (const [k, v] of small) {
    const w = large.get(k);
    if (w !== undefined) dot += v * w;
  }
  let na = 0;
  let nb = 0;
  for (const v of a.values()) na += v * v;
  for (const v of b.values()) nb += v * v;
  return Math.min(1, dot / Math.sqrt(na * nb));
}

export interface SimilarityOptions {
  /** Character n-gram size (default 3). */
  charN?: number;
  /** Largest word n-gram size (default 2: unigrams and bigrams). */
  wordN?: number;
  /** Weight of the character cosine; the word cosine gets the rest (default 0.5). */
  charWeight?: number;
}

/** Weighted mean of the character n-gram cosine and the word n-gram cosine, in 0..1. */
export function textSimilarity(a: string, b: string, options: SimilarityOptions = {}): number {
  const w = options.charWeight ?? 0.5;
  const c = w > 0 ? cosine(charNgrams(a, options.charN ?? 3), charNgrams(b, options.charN ?? 3)) : 0;
  const t = w < 1 ? cosine(wordNgrams(a, options.wordN ?? 2), wordNgrams(b, options.wordN ?? 2)) : 0;
  return w * c + (1 - w) * t;
}
