import { contentSet, contentWordCount, precisionGuard, unmatched, type GuardCheck } from "../precision-guard.ts";
import { STOPWORDS, stem, wordTokens } from "../text-features.ts";

/**
 * What the hit verifier sees of a (query, cached question) pair: the index's cosine, the word-vector and
 * lexical similarities, how many content words each side has that the other lacks and how close those
 * are in meaning to the other side's words, and each precision-guard check on its own. Pure, given a
 * word table; the same code computes the training rows and the online decision.
 */
export interface WordLookup {
  /** Unit vector and SIF weight (rarer words weigh more) of a known word. */
  word(raw: string): { vector: Float32Array; weight: number } | undefined;
  /** Unit sentence vector from the word table alone. */
  semanticOne(text: string): Float32Array;
}

export const GUARD_CHECKS: readonly GuardCheck[] = ["numbers", "negation", "entities", "quoted", "literal", "dates", "units", "comparison", "question", "person", "specificity", "swap", "order"];

export const FEATURE_NAMES: readonly string[] = [
  "score",
  "sem_cos",
  "word_jaccard",
  "content_jaccard",
  "bigram_jaccard",
  "char_jaccard",
  "log_words_max",
  "words_diff",
  "unmatched_min",
  "unmatched_max",
  "unmatched_weight",
  "align_min",
  "align_mean",
  "first_word_same",
  "unknown_unmatched",
  ...GUARD_CHECKS.map((c) => `guard_${c}`),
  ...Array.from({ length: 256 }, (_, i) => `diff_word_${i}`),
];

/** Hashed buckets for the words only one side has: lets training learn which differences matter ("best", "ways": no; "girlfriend"/"boyfriend": yes). */
const DIFF_BUCKETS = 256;

function bucketOf(word: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < word.length; i++) {
    h ^= word.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % DIFF_BUCKETS;
}

function jaccard<T>(a: Set<T>, b: Set<T>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let inter = 0;
  for (const x of a) if (b.has(x)) inter++;
  return inter / (a.size + b.size - inter);
}

function bigrams(words: string[]): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i + 1 < words.length; i++) out.add(`${words[i]} ${words[i + 1]}`);
  return out;
}

function charTrigrams(text: string): Set<string> {
  const t = ` ${text.toLowerCase().replace(/\s+/g, " ")} `;
  const out = new Set<string>();
  for (let i = 0; i + 3 <= t.length; i++) out.add(t.slice(i, i + 3));
  return out;
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

/**
 * For each word only one side has, its best cosine to the other side's content words: a synonym
 * ("buy"/"purchase") scores high, a swapped slot ("Belize"/"Barbados") lower, an unrelated addition low.
 */
function alignment(only: string[], otherWords: string[], words: WordLookup): { min: number; sum: number; n: number; unknown: number; weight: number } {
  const others = otherWords.map((w) => words.word(w)).filter((x): x is { vector: Float32Array; weight: number } => x !== undefined);
  let min = 1;
  let sum = 0;
  let n = 0;
  let unknown = 0;
  let weight = 0;
  for (const w of only) {
    const own = words.word(w);
    if (!own) {
      unknown++;
      weight += 1;
      min = Math.min(min, 0);
      n++;
      continue;
    }
    weight += own.weight;
    let best = 0;
    for (const o of others) best = Math.max(best, dot(own.vector, o.vector));
    min = Math.min(min, best);
    sum += best;
    n++;
  }
  return { min, sum, n, unknown, weight };
}

function diffWords(words: string[]): number[] {
  const out = new Array<number>(DIFF_BUCKETS).fill(0);
  for (const w of words) out[bucketOf(stem(w))] = 1;
  return out;
}

export function pairFeatures(query: string, candidate: string, score: number, words: WordLookup): number[] {
  const wq = wordTokens(query);
  const wc = wordTokens(candidate);
  const cq = contentSet(wq);
  const cc = contentSet(wc);
  const onlyQ = unmatched(cq, cc);
  const onlyC = unmatched(cc, cq);
  const contentQ = wq.filter((w) => !STOPWORDS.has(w));
  const contentC = wc.filter((w) => !STOPWORDS.has(w));
  // unmatched() works on stems; align the surface words behind them (word vectors know "buying", not "buy").
  const surface = (content: string[], only: string[]): string[] => {
    const stems = new Set(only);
    return [...new Set(content.filter((w) => stems.has(stem(w))))];
  };
  const aQ = alignment(surface(contentQ, onlyQ), contentC, words);
  const aC = alignment(surface(contentC, onlyC), contentQ, words);
  const nQ = contentWordCount(query);
  const nC = contentWordCount(candidate);
  const sem = dot(words.semanticOne(query), words.semanticOne(candidate));
  const n = aQ.n + aC.n;
  const guard = GUARD_CHECKS.map((check) => {
    const only = Object.fromEntries(GUARD_CHECKS.map((c) => [c, c === check])) as Record<GuardCheck, boolean>;
    return precisionGuard(query, candidate, only).ok ? 0 : 1;
  });
  return [
    score,
    sem,
    jaccard(new Set(wq), new Set(wc)),
    jaccard(cq, cc),
    jaccard(bigrams(wq), bigrams(wc)),
    jaccard(charTrigrams(query), charTrigrams(candidate)),
    Math.log1p(Math.max(nQ, nC)),
    Math.abs(nQ - nC) / Math.max(1, nQ, nC),
    Math.min(onlyQ.length, onlyC.length),
    Math.max(onlyQ.length, onlyC.length),
    Math.log1p(aQ.weight + aC.weight),
    Math.min(aQ.min, aC.min),
    n === 0 ? 1 : (aQ.sum + aC.sum) / n,
    wq[0] === wc[0] ? 1 : 0,
    aQ.unknown + aC.unknown,
    ...guard,
    ...diffWords([...wq, ...wc].filter((w) => !(wq.includes(w) && wc.includes(w)))),
  ];
}
