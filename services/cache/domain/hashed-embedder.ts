import type { Embedder } from "./types.ts";
import { STOPWORDS, stem, wordTokens } from "./text-features.ts";

/**
 * Local embedder that needs no model file and no network: signed feature hashing of stemmed words,
 * word bigrams and character trigrams, with stopwords down-weighted (a fixed list stands in for IDF,
 * so nothing is fitted on the evaluation data). Deterministic: vectors never change for a version.
 */
export interface HashedEmbedderOptions {
  dim?: number;
  wordWeight?: number;
  stopwordWeight?: number;
  bigramWeight?: number;
  charWeight?: number;
}

function fnv1a(text: string, seed: number): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class HashedNgramEmbedder implements Embedder {
  readonly name = "hashed-ngram";
  readonly version: string;
  readonly dim: number;
  private readonly o: Required<HashedEmbedderOptions>;

  constructor(options: HashedEmbedderOptions = {}) {
    this.o = {
      dim: options.dim ?? 512,
      wordWeight: options.wordWeight ?? 1,
      stopwordWeight: options.stopwordWeight ?? 0.15,
      bigramWeight: options.bigramWeight ?? 0.5,
      charWeight: options.charWeight ?? 0.6,
    };
    this.dim = this.o.dim;
    // Every knob changes the vectors, so every knob is part of the version (and thus of cache keys).
    this.version = `1-d${this.o.dim}-w${this.o.wordWeight}-s${this.o.stopwordWeight}-b${this.o.bigramWeight}-c${this.o.charWeight}`;
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    return texts.map((t) => this.embedOne(t));
  }

  embedOne(text: string): Float32Array {
    const v = new Float32Array(this.dim);
    const add = (feature: string, weight: number): void => {
      const h = fnv1a(feature, 0);
      const sign = (h & 0x80000000) === 0 ? 1 : -1;
      const idx = (h & 0x7fffffff) % this.dim;
      v[idx] = (v[idx] ?? 0) + sign * weight;
    };
    const words = wordTokens(text);
    const content: string[] = [];
    for (const w of words) {
      const isStop = STOPWORDS.has(w);
      const weight = isStop ? this.o.stopwordWeight : this.o.wordWeight;
      const s = stem(w);
      add(`w:${s}`, weight);
      if (!isStop) {
        content.push(s);
        // Character trigrams catch spelling variants and morphology the stemmer misses.
        const padded = `<${w}>`;
        const n = Math.max(1, padded.length - 2);
        const cw = this.o.charWeight / Math.sqrt(n);
        for (let i = 0; i + 3 <= padded.length; i++) add(`c:${padded.slice(i, i + 3)}`, cw);
      }
    }
    for (let i = 0; i + 1 < content.length; i++) add(`b:${content[i]} ${content[i + 1]}`, this.o.bigramWeight);
    let norm = 0;
    for (let i = 0; i < v.length; i++) norm += (v[i] ?? 0) * (v[i] ?? 0);
    norm = Math.sqrt(norm);
    if (norm > 0) for (let i = 0; i < v.length; i++) v[i] = (v[i] ?? 0) / norm;
    return v;
  }
}

export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}
