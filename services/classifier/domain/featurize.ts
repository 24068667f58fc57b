// Sparse feature vectors for the learned router: hashed word uni/bi-grams and character n-grams
// of the prompt (L2-normalised) plus dense rule features appended after the hash space.
import { detectCategory } from "./category.ts";
import { featuresAndText } from "./features.ts";
import { ruleLogit, type RuleWeights } from "./rules.ts";
import { CATEGORIES, type Category, type ClassifyInput, type Features } from "./types.ts";

export interface FeatureConfig {
  /** Hash buckets (power of two). */
  dim: number;
  /** 1 = unigrams, 2 = uni + bigrams. */
  wordNgrams: number;
  /** Character n-gram lengths inside words, e.g. [3, 4]; [] disables. */
  charNgrams: number[];
  /** Append dense rule features (lengths, markers, rule logit, category one-hot). */
  ruleFeatures: boolean;
  /** Rule weights used for the rule-logit feature (kept so an artifact is self-describing). */
  ruleWeights: RuleWeights;
}

export interface SparseVector {
  idx: Int32Array;
  val: Float64Array;
}

export interface Featurized {
  vector: SparseVector;
  features: Features;
  category: Category;
  ruleZ: number;
}

export const DENSE_NAMES: readonly string[] = [
  "log_tokens",
  "log_words",
  "numbers",
  "reasoning",
  "questions",
  "constraints",
  "has_code",
  "has_math",
  "multiple_choice",
  "follow_up",
  "json_mode",
  "has_tools",
  "multi_turn",
  "rule_logit",
  ...CATEGORIES.map((c) => `cat_${c}`),
];

export function denseSize(cfg: FeatureConfig): number {
  return cfg.ruleFeatures ? DENSE_NAMES.length : 0;
}

export function totalSize(cfg: FeatureConfig): number {
  return cfg.dim + denseSize(cfg);
}

/** FNV-1a 32-bit over a string, seeded per feature family so families don't collide systematically. */
function fnv(s: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Lower-cased alphanumeric tokens; digits collapse to "0" so numbers generalise. */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  let cur = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    const c = ch.charCodeAt(0);
    if (c >= 48 && c <= 57) cur += "0";
    else if ((c >= 97 && c <= 122) || c > 127) cur += ch;
    else if (c >= 65 && c <= 90) cur += String.fromCharCode(c + 32);
    else {
      if (cur) out.push(cur);
      cur = "";
      // Keep a few symbols that carry meaning (code, math) as tokens.
      if (ch === "=" || ch === "+" || ch === "*" || ch === "/" || ch === "{" || ch === "(" || ch === "?" || ch === "$" || ch === "%") out.push(ch);
    }
  }
  if (cur) out.push(cur);
  return out;
}

export function featurize(input: ClassifyInput, cfg: FeatureConfig): Featurized {
  const { features, text, last } = featuresAndText(input);
  const cat = detectCategory(last, text, features);
  const { z } = ruleLogit(features, cat.category, cfg.ruleWeights);

  const counts = new Map<number, number>();
  const mask = cfg.dim - 1;
  const add = (h: number): void => {
    const k = h & mask;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  };
  const toks = tokenize(text);
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    add(fnv(t, 1));
    if (cfg.wordNgrams >= 2 && i + 1 < toks.length) add(fnv(t + " " + toks[i + 1]!, 2));
    if (cfg.charNgrams.length > 0 && t.length > 2) {
      const w = "<" + t + ">";
      for (const n of cfg.charNgrams) {
        for (let j = 0; j + n <= w.length; j++) add(fnv(w.slice(j, j + n), 10 + n));
      }
    }
  }
  let norm = 0;
  for (const v of counts.values()) norm += v * v;
  norm = Math.sqrt(norm) || 1;

  const dense = cfg.ruleFeatures ? denseValues(features, cat.category, z) : [];
  const size = counts.size + dense.length;
  const idx = new Int32Array(size);
  const val = new Float64Array(size);
  let p = 0;
  for (const [k, v] of counts) {
    idx[p] = k;
    val[p] = v / norm;
    p++;
  }
  for (let i = 0; i < dense.length; i++) {
    idx[p] = cfg.dim + i;
    val[p] = dense[i]!;
    p++;
  }
  return { vector: { idx, val }, features, category: cat.category, ruleZ: z };
}

function denseValues(f: Features, category: Category, ruleZ: number): number[] {
  const b = (x: boolean): number => (x ? 1 : 0);
  const out = [
    Math.log1p(f.approxTokens) / 8,
    Math.log1p(f.words) / 6,
    Math.min(20, f.numberCount) / 20,
    Math.min(5, f.reasoningMarkers) / 5,
    Math.min(5, f.questionCount) / 5,
    Math.min(4, f.constraintMarkers) / 4,
    b(f.hasCode),
    b(f.hasMath),
    b(f.multipleChoice),
    b(f.followUp),
    b(f.jsonMode),
    b(f.hasTools),
    b(f.turns > 1),
    ruleZ / 5,
  ];
  for (const c of CATEGORIES) out.push(c === category ? 1 : 0);
  return out;
}

export function dot(w: ArrayLike<number>, x: SparseVector): number {
  let s = 0;
  for (let i = 0; i < x.idx.length; i++) s += (w[x.idx[i]!] ?? 0) * x.val[i]!;
  return s;
}
