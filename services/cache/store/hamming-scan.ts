/**
 * The Hamming pre-scan of compact-partition.ts: for every 256-bit row code, its distance to the query's
 * code (written to `dist`) and a histogram of those distances (`hist`, 257 counts), from which the
 * partition picks the cut-off that keeps its `rerank` closest rows.
 *
 * Two kernels with the same results: this JavaScript one (SWAR popcount, no table), and the WebAssembly
 * SIMD one in wasm-kernels.ts that large partitions use (row-arena.ts). JavaScript has no popcount
 * instruction, and the pre-scan was most of a lookup's time at 100k rows (about 1.4 of 1.7 ms with the
 * former 16-bit popcount table). This kernel is the fallback where WebAssembly SIMD is unavailable.
 */
export const CODE_BITS = 256;
export const CODE_WORDS = CODE_BITS / 32;

/** JavaScript kernel: distances of rows [0, n) of `codes` to `q`, and their histogram (added to `hist`). */
export function hammingScanJs(codes: Int32Array, n: number, q: Int32Array, dist: Uint16Array, hist: Uint32Array): void {
  const q0 = q[0] as number, q1 = q[1] as number, q2 = q[2] as number, q3 = q[3] as number;
  const q4 = q[4] as number, q5 = q[5] as number, q6 = q[6] as number, q7 = q[7] as number;
  for (let r = 0, b = 0; r < n; r++, b += CODE_WORDS) {
    // SWAR popcount, two words at a time: 2-bit counts of two words summed before widening to nibbles,
    // byte counts of all eight words summed (at most 32 per byte) before one horizontal sum.
    let x = (codes[b] as number) ^ q0;
    let y = (codes[b + 1] as number) ^ q1;
    x -= (x >>> 1) & 0x55555555;
    y -= (y >>> 1) & 0x55555555;
    let z = (x & 0x33333333) + ((x >>> 2) & 0x33333333) + (y & 0x33333333) + ((y >>> 2) & 0x33333333);
    let acc = (z & 0x0f0f0f0f) + ((z >>> 4) & 0x0f0f0f0f);
    x = (codes[b + 2] as number) ^ q2;
    y = (codes[b + 3] as number) ^ q3;
    x -= (x >>> 1) & 0x55555555;
    y -= (y >>> 1) & 0x55555555;
    z = (x & 0x33333333) + ((x >>> 2) & 0x33333333) + (y & 0x33333333) + ((y >>> 2) & 0x33333333);
    acc += (z & 0x0f0f0f0f) + ((z >>> 4) & 0x0f0f0f0f);
    x = (codes[b + 4] as number) ^ q4;
    y = (codes[b + 5] as number) ^ q5;
    x -= (x >>> 1) & 0x55555555;
    y -= (y >>> 1) & 0x55555555;
    z = (x & 0x33333333) + ((x >>> 2) & 0x33333333) + (y & 0x33333333) + ((y >>> 2) & 0x33333333);
    acc += (z & 0x0f0f0f0f) + ((z >>> 4) & 0x0f0f0f0f);
    x = (codes[b + 6] as number) ^ q6;
    y = (codes[b + 7] as number) ^ q7;
    x -= (x >>> 1) & 0x55555555;
    y -= (y >>> 1) & 0x55555555;
    z = (x & 0x33333333) + ((x >>> 2) & 0x33333333) + (y & 0x33333333) + ((y >>> 2) & 0x33333333);
    acc += (z & 0x0f0f0f0f) + ((z >>> 4) & 0x0f0f0f0f);
    // Bytes to 16-bit halves, then the two halves: a multiply by 0x01010101 would wrap 256 to 0.
    acc = (acc & 0x00ff00ff) + ((acc >>> 8) & 0x00ff00ff);
    const d = (acc & 0xffff) + (acc >>> 16);
    dist[r] = d;
    hist[d] = (hist[d] as number) + 1;
  }
}
