import { HashedNgramEmbedder, type HashedEmbedderOptions } from "./hashed-embedder.ts";
import { stem, wordTokens } from "./text-features.ts";
import type { Embedder } from "./types.ts";
import type { WordVectors } from "./word-vectors.ts";

/**
 * Local embedder that sees synonyms: a SIF sentence vector (smooth-inverse-frequency weighted average of
 * pre-trained word vectors, minus their common component; Arora et al. 2017) concatenated with the
 * lexical hashed vector, so cosine = weighted mix of "same meaning words" and "same surface words".
 * Word frequencies come from the vectors' own rank order through Zipf's law (no corpus, nothing fitted
 * on evaluation data). The vector table is loaded lazily, once, on the first embed.
 */
export interface SifEmbedderOptions {
  /** Loads the word table; called once. Its id (source and size) goes into `version`. */
  loadVectors: () => WordVectors;
  vectorsId: string;
  /** SIF smoothing `a` in a / (a + p(w)). */
  sifA?: number;
  /** Share of the squared norm given to the semantic part (cosine = s*cos_sem + (1-s)*cos_lex). */
  semanticShare?: number;
  /** Remove the frequency-weighted common direction of the word vectors (the SIF paper's first component). */
  removeCommon?: boolean;
  lexical?: HashedEmbedderOptions;
}

/** Zipf–Mandelbrot rank shift: fits word-frequency lists better than plain 1/r at the top ranks. */
const ZIPF_SHIFT = 2.7;

interface Prepared {
  table: WordVectors;
  /** Per-rank SIF weight. */
  weight: Float32Array;
  /** Unit common direction, or undefined when not removed. */
  common: Float32Array | undefined;
}

export class SifHybridEmbedder implements Embedder {
  readonly name = "sif-hybrid";
  readonly version: string;
  readonly dim: number;
  readonly semanticDim: number;
  private readonly lexical: HashedNgramEmbedder;
  private readonly a: number;
  private readonly share: number;
  private readonly removeCommon: boolean;
  private prepared: Prepared | undefined;

  constructor(private readonly o: SifEmbedderOptions & { semanticDim: number }) {
    this.lexical = new HashedNgramEmbedder(o.lexical);
    this.a = o.sifA ?? 1e-3;
    this.share = o.semanticShare ?? 0.5;
    this.removeCommon = o.removeCommon ?? true;
    this.semanticDim = o.semanticDim;
    this.dim = o.semanticDim + this.lexical.dim;
    // Every knob changes the vectors, so every knob is part of the version (and thus of cache keys).
    this.version = `2-${o.vectorsId}-a${this.a}-s${this.share}-pc${this.removeCommon ? 1 : 0}+${this.lexical.version}`;
  }

  /** Loads and prepares the word table now (otherwise the first embed does). */
  warm(): void {
    this.prep();
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    return texts.map((t) => this.embedOne(t));
  }

  embedOne(text: string): Float32Array {
    const out = new Float32Array(this.dim);
    const sem = this.semanticOne(text);
    const lex = this.lexical.embedOne(text);
    const ws = Math.sqrt(this.share);
    const wl = Math.sqrt(1 - this.share);
    let norm = 0;
    for (let i = 0; i < sem.length; i++) {
      const x = (sem[i] as number) * ws;
      out[i] = x;
      norm += x * x;
    }
    for (let i = 0; i < lex.length; i++) {
      const x = (lex[i] as number) * wl;
      out[sem.length + i] = x;
      norm += x * x;
    }
    // No known word: the lexical part alone, still unit length.
    norm = Math.sqrt(norm);
    if (norm > 0) for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) / norm;
    return out;
  }

  /** The semantic part alone, unit length (zero when no word is in the table). */
  semanticOne(text: string): Float32Array {
    const { table, weight, common } = this.prep();
    const dim = table.dim;
    const v = new Float32Array(dim);
    for (const raw of wordTokens(text)) {
      // "don't" is two tokens in the vectors' vocabulary; its meaning here is the negation.
      const w = raw.endsWith("n't") ? "not" : raw;
      let r = table.rankOf(w);
      if (r < 0) r = table.rankOf(stem(w));
      if (r < 0) continue;
      table.addRow(r, weight[r] as number, v);
    }
    if (common) {
      let proj = 0;
      for (let d = 0; d < dim; d++) proj += (v[d] as number) * (common[d] as number);
      for (let d = 0; d < dim; d++) v[d] = (v[d] as number) - proj * (common[d] as number);
    }
    let norm = 0;
    for (let d = 0; d < dim; d++) norm += (v[d] as number) ** 2;
    norm = Math.sqrt(norm);
    if (norm > 0) for (let d = 0; d < dim; d++) v[d] = (v[d] as number) / norm;
    return v;
  }

  /**
   * A known word's unit vector and SIF weight (the hit verifier aligns the words two texts do not
   * share); undefined for a word outside the table.
   */
  word(raw: string): { vector: Float32Array; weight: number } | undefined {
    const { table, weight } = this.prep();
    let r = table.rankOf(raw);
    if (r < 0) r = table.rankOf(stem(raw));
    if (r < 0) return undefined;
    const v = new Float32Array(table.dim);
    table.addRow(r, 1, v);
    let norm = 0;
    for (let d = 0; d < v.length; d++) norm += (v[d] as number) ** 2;
    norm = Math.sqrt(norm);
    if (norm > 0) for (let d = 0; d < v.length; d++) v[d] = (v[d] as number) / norm;
    return { vector: v, weight: weight[r] as number };
  }

  private prep(): Prepared {
    if (this.prepared) return this.prepared;
    const table = this.o.loadVectors();
    if (table.dim !== this.semanticDim) throw new Error(`word vectors have ${table.dim} dimensions, expected ${this.semanticDim}`);
    const p = zipfProbabilities(table.vocabulary, table.size);
    const weight = new Float32Array(table.size);
    for (let r = 0; r < table.size; r++) weight[r] = this.a / (this.a + (p[r] as number));
    const common = this.removeCommon ? commonDirection(table, p, weight) : undefined;
    this.prepared = { table, weight, common };
    return this.prepared;
  }
}

/** p(rank) under Zipf–Mandelbrot over the full vocabulary; only the first `keep` ranks are returned. */
export function zipfProbabilities(vocabulary: number, keep: number): Float64Array {
  let z = 0;
  for (let r = 0; r < vocabulary; r++) z += 1 / (r + 1 + ZIPF_SHIFT);
  const p = new Float64Array(keep);
  for (let r = 0; r < keep; r++) p[r] = 1 / ((r + 1 + ZIPF_SHIFT) * z);
  return p;
}

/**
 * Expected SIF-weighted word vector of running text (words drawn by frequency): the direction every
 * sentence sum shares, which SIF removes so cosine reflects what differs between sentences.
 */
function commonDirection(table: WordVectors, p: Float64Array, weight: Float32Array): Float32Array {
  const dim = table.dim;
  const mean = new Float64Array(dim);
  for (let r = 0; r < table.size; r++) table.addRow(r, (p[r] as number) * (weight[r] as number), mean);
  let norm = 0;
  for (let d = 0; d < dim; d++) norm += (mean[d] as number) ** 2;
  norm = Math.sqrt(norm);
  const out = new Float32Array(dim);
  if (norm > 0) for (let d = 0; d < dim; d++) out[d] = (mean[d] as number) / norm;
  return out;
}
