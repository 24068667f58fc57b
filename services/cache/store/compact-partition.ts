import type { VectorEntryMeta, VectorMatch } from "./vector-index.ts";

/**
 * A partition of the in-process index in compact form: each row is int8 (scaled by its own largest
 * component, one float32 scale per row) plus a 256-bit sign code (SimHash: the signs of 256 fixed
 * random projections, see codePlan). 612 dims take 612 + 4 + 32 bytes instead of 2,448 (float32) + 256 (the
 * float sketch). Large partitions are pre-scanned on the codes (Hamming distance by XOR and a 16-bit
 * popcount table, ~4 integer operations per 32 bits, no float work), the closest `rerank` rows are then
 * scored on their int8 rows against the float query. Quantisation error on a cosine is about
 * max|v| / 254 per dimension, ~0.001 overall for unit vectors of this size: well inside the gaps the
 * cache's thresholds are chosen on. Hamming distance over 256 bits estimates the angle with a standard
 * deviation of ~6 degrees, so neighbours above cosine ~0.5 stay in the top `rerank` at 100k rows.
 */
export const CODE_BITS = 256;
const CODE_WORDS = CODE_BITS / 32;

/** Bits set in every 16-bit value. */
const POP16 = (() => {
  const t = new Uint8Array(1 << 16);
  for (let i = 1; i < t.length; i++) t[i] = (t[i >> 1] as number) + (i & 1);
  return t;
})();

/**
 * The projections, fixed by a seed (every replica computes the same codes): a randomised Hadamard
 * transform applied twice (sign flips, fast Walsh-Hadamard, sign flips, again), whose first coordinates
 * behave as random projections for SimHash at O(p log p) per vector instead of 256 dense dot products.
 */
export interface CodePlan {
  dim: number;
  /** Power of two >= max(dim, CODE_BITS). */
  p: number;
  flip1: Float64Array;
  flip2: Float64Array;
  scratch: Float64Array;
}

export function codePlan(dim: number): CodePlan {
  let p = CODE_BITS;
  while (p < dim) p *= 2;
  let s = 0x2545f491;
  const flips = (): Float64Array => {
    const f = new Float64Array(p);
    for (let i = 0; i < p; i++) {
      // xorshift32: deterministic, cheap, good enough for random signs.
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      f[i] = (s & 1) === 0 ? 1 : -1;
    }
    return f;
  };
  return { dim, p, flip1: flips(), flip2: flips(), scratch: new Float64Array(p) };
}

function fwht(a: Float64Array, p: number): void {
  for (let h = 1; h < p; h *= 2) {
    for (let i = 0; i < p; i += 2 * h) {
      for (let j = i; j < i + h; j++) {
        const x = a[j] as number;
        const y = a[j + h] as number;
        a[j] = x + y;
        a[j + h] = x - y;
      }
    }
  }
}

function writeCode(plan: CodePlan, v: Float32Array, out: Int32Array, base: number): void {
  const { dim, p, flip1, flip2, scratch: a } = plan;
  for (let i = 0; i < p; i++) a[i] = i < dim ? (v[i] as number) * (flip1[i] as number) : 0;
  fwht(a, p);
  for (let i = 0; i < p; i++) a[i] = (a[i] as number) * (flip2[i] as number);
  fwht(a, p);
  // Spread the bits over the transform's coordinates.
  const stride = p / CODE_BITS;
  for (let w = 0; w < CODE_WORDS; w++) {
    let word = 0;
    for (let b = 0; b < 32; b++) if ((a[(w * 32 + b) * stride] as number) > 0) word |= 1 << b;
    out[base + w] = word;
  }
}

// The same four-accumulator loop as inprocess-vector-index.ts's dotAt, kept apart on purpose: one
// function fed both Int8Array and Float32Array rows turns polymorphic in V8 and slows both scans.
function dotI8(rows: Int8Array, base: number, q: Float32Array, dim: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const dim4 = dim - (dim % 4);
  let i = 0;
  for (; i < dim4; i += 4) {
    s0 += (rows[base + i] as number) * (q[i] as number);
    s1 += (rows[base + i + 1] as number) * (q[i + 1] as number);
    s2 += (rows[base + i + 2] as number) * (q[i + 2] as number);
    s3 += (rows[base + i + 3] as number) * (q[i + 3] as number);
  }
  for (; i < dim; i++) s0 += (rows[base + i] as number) * (q[i] as number);
  return s0 + s1 + s2 + s3;
}

/** Best-first list of at most k (k is small: sorted insertion). */
function pushTop(scores: number[], rows: number[], k: number, score: number, row: number): void {
  if (scores.length === k && score <= (scores[k - 1] as number)) return;
  let pos = scores.length;
  while (pos > 0 && (scores[pos - 1] as number) < score) pos--;
  scores.splice(pos, 0, score);
  rows.splice(pos, 0, row);
  if (scores.length > k) {
    scores.pop();
    rows.pop();
  }
}

export class CompactPartition {
  rows: Int8Array;
  scales: Float32Array;
  codes: Int32Array;
  metas: VectorEntryMeta[] = [];
  rowOf = new Map<string, number>();
  /** Hamming distances of the last pre-scan (reused between lookups). */
  private dist = new Uint16Array(0);

  constructor(
    readonly dim: number,
    readonly namespace: string,
    private readonly plan: CodePlan,
    private readonly twoStageMinRows: number,
    private readonly rerank: number,
  ) {
    this.rows = new Int8Array(dim * 8);
    this.scales = new Float32Array(8);
    this.codes = new Int32Array(CODE_WORDS * 8);
  }

  get size(): number {
    return this.metas.length;
  }

  private grow(n: number): void {
    if (n <= this.scales.length) return;
    const cap = Math.max(n, Math.ceil(this.scales.length * 1.5));
    const rows = new Int8Array(cap * this.dim);
    rows.set(this.rows);
    this.rows = rows;
    const scales = new Float32Array(cap);
    scales.set(this.scales);
    this.scales = scales;
    const codes = new Int32Array(cap * CODE_WORDS);
    codes.set(this.codes);
    this.codes = codes;
  }

  upsert(meta: VectorEntryMeta, vector: Float32Array): boolean {
    const existing = this.rowOf.get(meta.id);
    const row = existing ?? this.metas.length;
    if (existing === undefined) {
      this.grow(row + 1);
      this.metas.push(meta);
      this.rowOf.set(meta.id, row);
    } else {
      this.metas[row] = meta;
    }
    let max = 0;
    for (let i = 0; i < this.dim; i++) max = Math.max(max, Math.abs(vector[i] as number));
    const inv = max > 0 ? 127 / max : 0;
    const base = row * this.dim;
    for (let i = 0; i < this.dim; i++) this.rows[base + i] = Math.round((vector[i] as number) * inv);
    this.scales[row] = max / 127;
    writeCode(this.plan, vector, this.codes, row * CODE_WORDS);
    return existing === undefined;
  }

  remove(id: string): boolean {
    const row = this.rowOf.get(id);
    if (row === undefined) return false;
    const last = this.metas.length - 1;
    if (row !== last) {
      const lastMeta = this.metas[last] as VectorEntryMeta;
      this.rows.copyWithin(row * this.dim, last * this.dim, (last + 1) * this.dim);
      this.codes.copyWithin(row * CODE_WORDS, last * CODE_WORDS, (last + 1) * CODE_WORDS);
      this.scales[row] = this.scales[last] as number;
      this.metas[row] = lastMeta;
      this.rowOf.set(lastMeta.id, row);
    }
    this.metas.pop();
    this.rowOf.delete(id);
    return true;
  }

  private score(row: number, q: Float32Array): number {
    return dotI8(this.rows, row * this.dim, q, this.dim) * (this.scales[row] as number);
  }

  /** Rows whose code is among the `want` closest to the query's (ties at the cut-off included up to `want`). */
  private prescan(q: Float32Array, want: number): number[] {
    const n = this.metas.length;
    const qc = new Int32Array(CODE_WORDS);
    writeCode(this.plan, q, qc, 0);
    if (this.dist.length < n) this.dist = new Uint16Array(this.scales.length);
    const dist = this.dist;
    const hist = new Uint32Array(CODE_BITS + 1);
    const codes = this.codes;
    const q0 = qc[0] as number, q1 = qc[1] as number, q2 = qc[2] as number, q3 = qc[3] as number;
    const q4 = qc[4] as number, q5 = qc[5] as number, q6 = qc[6] as number, q7 = qc[7] as number;
    for (let r = 0, b = 0; r < n; r++, b += CODE_WORDS) {
      const x0 = (codes[b] as number) ^ q0, x1 = (codes[b + 1] as number) ^ q1, x2 = (codes[b + 2] as number) ^ q2, x3 = (codes[b + 3] as number) ^ q3;
      const x4 = (codes[b + 4] as number) ^ q4, x5 = (codes[b + 5] as number) ^ q5, x6 = (codes[b + 6] as number) ^ q6, x7 = (codes[b + 7] as number) ^ q7;
      const d =
        (POP16[x0 & 0xffff] as number) + (POP16[x0 >>> 16] as number) + (POP16[x1 & 0xffff] as number) + (POP16[x1 >>> 16] as number) +
        (POP16[x2 & 0xffff] as number) + (POP16[x2 >>> 16] as number) + (POP16[x3 & 0xffff] as number) + (POP16[x3 >>> 16] as number) +
        (POP16[x4 & 0xffff] as number) + (POP16[x4 >>> 16] as number) + (POP16[x5 & 0xffff] as number) + (POP16[x5 >>> 16] as number) +
        (POP16[x6 & 0xffff] as number) + (POP16[x6 >>> 16] as number) + (POP16[x7 & 0xffff] as number) + (POP16[x7 >>> 16] as number);
      dist[r] = d;
      hist[d] = (hist[d] as number) + 1;
    }
    let cut = 0;
    let below = 0;
    while (cut < CODE_BITS && below + (hist[cut] as number) < want) below += hist[cut++] as number;
    // Rows strictly below the cut-off all go; rows at it fill what is left.
    let atCut = want - below;
    const out: number[] = [];
    for (let r = 0; r < n; r++) {
      const d = dist[r] as number;
      if (d < cut) out.push(r);
      else if (d === cut && atCut > 0) {
        out.push(r);
        atCut--;
      }
    }
    return out;
  }

  search(q: Float32Array, k: number, now: number): { matches: VectorMatch[]; expired: string[] } {
    const n = this.metas.length;
    const expired: string[] = [];
    const scores: number[] = [];
    const rows: number[] = [];
    const consider = (row: number): void => {
      const meta = this.metas[row] as VectorEntryMeta;
      const s = this.score(row, q);
      if (scores.length === k && s <= (scores[k - 1] as number)) return;
      if (meta.expiresAt <= now) expired.push(meta.id);
      else pushTop(scores, rows, k, s, row);
    };
    if (n < this.twoStageMinRows) for (let r = 0; r < n; r++) consider(r);
    else for (const r of this.prescan(q, Math.max(this.rerank, k * 8))) consider(r);
    return { matches: rows.map((r, i) => ({ meta: this.metas[r] as VectorEntryMeta, score: scores[i] as number })), expired };
  }
}
