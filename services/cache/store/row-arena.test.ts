import { describe, expect, it } from "vitest";
import { CODE_WORDS, hammingScanJs } from "./hamming-scan.ts";
import { RowArena } from "./row-arena.ts";
import { kernelsModule } from "./wasm-kernels.ts";

function xorshift(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s;
  };
}

function popcount(x: number): number {
  let n = 0;
  for (let v = x >>> 0; v !== 0; v >>>= 1) n += v & 1;
  return n;
}

describe("row arena and its WebAssembly kernels", () => {
  it("compiles here (Node 20 has WebAssembly SIMD)", () => {
    expect(kernelsModule()).not.toBeNull();
  });

  it("scan and the JavaScript kernel give the bit-by-bit Hamming distances and the same histogram", () => {
    const n = 3_000;
    const arena = RowArena.create(40, n) as RowArena;
    const next = xorshift(9);
    for (let i = 0; i < n * CODE_WORDS; i++) arena.codes[i] = next();
    // A few extremes: identical to the query and its complement (distance 0 and 256).
    for (let w = 0; w < CODE_WORDS; w++) arena.q[w] = next();
    for (let w = 0; w < CODE_WORDS; w++) {
      arena.codes[w] = arena.q[w] as number;
      arena.codes[CODE_WORDS + w] = ~(arena.q[w] as number);
    }
    arena.scan(n);
    const dist = new Uint16Array(n);
    const hist = new Uint32Array(257);
    hammingScanJs(arena.codes, n, arena.q, dist, hist);
    for (let r = 0; r < n; r++) {
      let want = 0;
      for (let w = 0; w < CODE_WORDS; w++) want += popcount((arena.codes[r * CODE_WORDS + w] as number) ^ (arena.q[w] as number));
      expect(arena.dist[r]).toBe(want);
      expect(dist[r]).toBe(want);
    }
    expect(arena.dist[0]).toBe(0);
    expect(arena.dist[1]).toBe(256);
    expect(Array.from(arena.hist)).toEqual(Array.from(hist));
    // A second scan starts its histogram from zero.
    arena.scan(n);
    expect(Array.from(arena.hist)).toEqual(Array.from(hist));
  });

  it("pick takes every row below the cut and the first atCut rows at it, in row order", () => {
    const n = 500;
    const arena = RowArena.create(16, n) as RowArena;
    const next = xorshift(5);
    for (let i = 0; i < n * CODE_WORDS; i++) arena.codes[i] = next();
    for (let w = 0; w < CODE_WORDS; w++) arena.q[w] = next();
    arena.scan(n);
    const cut = 125;
    const atCut = 3;
    const want: number[] = [];
    let left = atCut;
    for (let r = 0; r < n; r++) {
      const d = arena.dist[r] as number;
      if (d < cut) want.push(r);
      else if (d === cut && left > 0) {
        want.push(r);
        left--;
      }
    }
    const m = arena.pick(n, cut, atCut);
    expect(Array.from(arena.picked.subarray(0, m))).toEqual(want);
    expect(arena.pick(n, 0, 0)).toBe(0);
  });

  it("dot is the int8 x int16 dot product, also for dims that are not a multiple of 16 and for the last row", () => {
    for (const dim of [612, 16, 7]) {
      const n = 20;
      const arena = RowArena.create(dim, n) as RowArena;
      const next = xorshift(dim);
      for (let i = 0; i < n * dim; i++) arena.rows[i] = (next() % 128) | 0;
      const q = new Float32Array(dim).map(() => (next() % 1000) / 1000);
      const scale = arena.setQuery(q);
      for (const row of [0, 7, n - 1]) {
        let exact = 0;
        for (let i = 0; i < dim; i++) exact += (arena.rows[row * dim + i] as number) * (q[i] as number);
        expect(Math.abs(arena.dot(row) * scale - exact)).toBeLessThan(1e-3 * Math.max(1, Math.abs(exact)));
      }
    }
  });
});
