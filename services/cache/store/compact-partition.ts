import { CODE_BITS, CODE_WORDS, hammingScanJs } from "./hamming-scan.ts";
import { PICK_MAX, RowArena } from "./row-arena.ts";
import type { VectorEntryMeta, VectorMatch } from "./vector-index.ts";

/**
 * A partition of the in-process index in compact form: each row is int8 (scaled by its own largest
 * component, one float32 scale per row) plus a 256-bit sign code (SimHash: the signs of 256 fixed
 * random projections, see codePlan). 612 dims take 612 + 4 + 32 bytes instead of 2,448 (float32) + 256 (the
 * float sketch). Large partitions are pre-scanned on the codes (Hamming distance by XOR and popcount, no
 * float work), the closest `rerank` rows are then scored on their int8 rows against the query. Their rows
 * and codes live in WebAssembly memory (row-arena.ts) where SIMD kernels do both steps (the query in
 * int16 for the re-rank: ~1e-5 relative error); JavaScript kernels are the fallback. Quantisation error
 * on a cosine is about max|v| / 254 per dimension, ~0.001 overall for unit vectors of this size: well
 * inside the gaps the cache's thresholds are chosen on. Hamming distance over 256 bits estimates the angle with a standard
 * deviation of ~6 degrees, so neighbours above cosine ~0.5 stay in the top `rerank` at 100k rows.
 */

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

/**
 * Scratch of the pre-scan, shared by all partitions (a search runs to its end synchronously): the
 * JavaScript kernel's distances, histogram and query code, and the rows picked for the re-rank.
 */
const scratch = {
  dist: new Uint16Array(0),
  hist: new Uint32Array(CODE_BITS + 1),
  qc: new Int32Array(CODE_WORDS),
  picked: new Int32Array(0),
};

export class CompactPartition {
  /** Rows and codes: plain arrays while small, views on `arena` once the partition can be pre-scanned. */
  rows: Int8Array;
  codes: Int32Array;
  scales: Float32Array;
  metas: VectorEntryMeta[] = [];
  rowOf = new Map<string, number>();
  /** WebAssembly home of the rows and codes of a partition large enough to be pre-scanned. */
  private arena: RowArena | undefined;

  constructor(
    readonly dim: number,
    readonly namespace: string,
    private readonly plan: CodePlan,
    private readonly twoStageMinRows: number,
    private readonly rerank: number,
    /** False: plain arrays and the JavaScript kernels even where WebAssembly SIMD runs (tests, benchmark). */
    private readonly wasmKernels = true,
  ) {
    this.rows = new Int8Array(dim * 8);
    this.scales = new Float32Array(8);
    this.codes = new Int32Array(CODE_WORDS * 8);
  }

  get size(): number {
    return this.metas.length;
  }

  /** True when the rows and codes live in WebAssembly memory (for tests). */
  get usesArena(): boolean {
    return this.arena !== undefined;
  }

  private grow(n: number): void {
    if (n <= this.scales.length) return;
    const cap = Math.max(n, Math.ceil(this.scales.length * 1.5));
    const used = this.metas.length;
    const scales = new Float32Array(cap);
    scales.set(this.scales);
    this.scales = scales;
    // An arena from the capacity at which the partition can reach the pre-scan size, so it is in place by then.
    const arena = this.wasmKernels && cap >= this.twoStageMinRows ? RowArena.create(this.dim, cap) : undefined;
    const rows = arena ? arena.rows : new Int8Array(cap * this.dim);
    rows.set(this.rows.subarray(0, used * this.dim));
    this.rows = rows;
    const codes = arena ? arena.codes : new Int32Array(cap * CODE_WORDS);
    codes.set(this.codes.subarray(0, used * CODE_WORDS));
    this.codes = codes;
    this.arena = arena;
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

  /**
   * Rows whose code is among the `want` closest to the query's (ties at the cut-off included up to
   * `want`), in the arena's `picked` or else `scratch.picked`; returns how many.
   */
  private prescan(q: Float32Array, want: number, arena: RowArena | undefined): number {
    const n = this.metas.length;
    let dist: Uint16Array;
    let hist: Uint32Array;
    if (arena) {
      writeCode(this.plan, q, arena.q, 0);
      arena.scan(n);
      dist = arena.dist;
      hist = arena.hist;
    } else {
      writeCode(this.plan, q, scratch.qc, 0);
      if (scratch.dist.length < n) scratch.dist = new Uint16Array(this.scales.length);
      dist = scratch.dist;
      hist = scratch.hist;
      hist.fill(0);
      hammingScanJs(this.codes, n, scratch.qc, dist, hist);
    }
    let cut = 0;
    let below = 0;
    while (cut < CODE_BITS && below + (hist[cut] as number) < want) below += hist[cut++] as number;
    // Rows strictly below the cut-off all go; rows at it fill what is left.
    let atCut = want - below;
    if (arena) return arena.pick(n, cut, atCut);
    if (scratch.picked.length < want) scratch.picked = new Int32Array(want);
    const picked = scratch.picked;
    let m = 0;
    for (let r = 0; r < n; r++) {
      const d = dist[r] as number;
      if (d < cut) picked[m++] = r;
      else if (d === cut && atCut > 0) {
        picked[m++] = r;
        atCut--;
      }
    }
    return m;
  }

  search(q: Float32Array, k: number, now: number): { matches: VectorMatch[]; expired: string[] } {
    const n = this.metas.length;
    const expired: string[] = [];
    const scores: number[] = [];
    const rows: number[] = [];
    const consider = (row: number, s: number): void => {
      if (scores.length === k && s <= (scores[k - 1] as number)) return;
      const meta = this.metas[row] as VectorEntryMeta;
      if (meta.expiresAt <= now) expired.push(meta.id);
      else pushTop(scores, rows, k, s, row);
    };
    const want = Math.max(this.rerank, k * 8);
    const arena = this.arena !== undefined && want <= PICK_MAX ? this.arena : undefined;
    if (n < this.twoStageMinRows) for (let r = 0; r < n; r++) consider(r, this.score(r, q));
    else if (arena) {
      const m = this.prescan(q, want, arena);
      const qScale = arena.setQuery(q);
      const picked = arena.picked;
      for (let i = 0; i < m; i++) {
        const r = picked[i] as number;
        consider(r, arena.dot(r) * (this.scales[r] as number) * qScale);
      }
    } else {
      const m = this.prescan(q, want, undefined);
      for (let i = 0; i < m; i++) {
        const r = scratch.picked[i] as number;
        consider(r, this.score(r, q));
      }
    }
    return { matches: rows.map((r, i) => ({ meta: this.metas[r] as VectorEntryMeta, score: scores[i] as number })), expired };
  }
}
