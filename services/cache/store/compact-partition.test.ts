import { describe, expect, it } from "vitest";
import { codePlan, CompactPartition } from "./compact-partition.ts";
import { InProcessVectorIndex } from "./inprocess-vector-index.ts";

const DIM = 612;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function randomUnit(next: () => number): Float32Array {
  const v = new Float32Array(DIM);
  for (let i = 0; i < DIM; i++) v[i] = next() - 0.5;
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

/** `base` moved toward noise so that its cosine to base is about `cos`. */
function near(base: Float32Array, cos: number, next: () => number): Float32Array {
  const noise = randomUnit(next);
  const s = Math.sqrt(1 - cos * cos);
  const v = base.map((x, i) => cos * x + s * (noise[i] as number));
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

const P = { tenant: "t", namespace: "ns", key: "k" };
const meta = (id: string, expiresAt = Number.MAX_SAFE_INTEGER) => ({ id, text: id, createdAt: 0, expiresAt });

describe("compact (int8 + sign code) index layout", () => {
  it("scores within 0.005 of the float32 layout, same ranking, for small and two-stage partitions", () => {
    const next = rng(7);
    const rows = Array.from({ length: 400 }, () => randomUnit(next));
    for (const twoStageMinRows of [Number.POSITIVE_INFINITY, 1]) {
      const exact = new InProcessVectorIndex({ dim: DIM, twoStageMinRows: Number.POSITIVE_INFINITY });
      const compact = new InProcessVectorIndex({ dim: DIM, compact: true, twoStageMinRows, rerank: 64 });
      rows.forEach((r, i) => {
        exact.upsertSync(P, meta(`e${i}`), r);
        compact.upsertSync(P, meta(`e${i}`), r);
      });
      for (let t = 0; t < 20; t++) {
        const target = Math.floor(next() * rows.length);
        const q = near(rows[target] as Float32Array, 0.9, next);
        const want = exact.searchSync(P, q, 3, 0);
        const got = compact.searchSync(P, q, 3, 0);
        expect(got[0]?.meta.id).toBe(`e${target}`);
        expect(got[0]?.meta.id).toBe(want[0]?.meta.id);
        expect(Math.abs((got[0]?.score ?? 0) - (want[0]?.score ?? 1))).toBeLessThan(0.005);
      }
    }
  });

  it("the sign-code pre-scan keeps a cosine-0.6 neighbour among 4,000 rows in a rerank set of 48", () => {
    const next = rng(11);
    const ix = new InProcessVectorIndex({ dim: DIM, compact: true, twoStageMinRows: 1_000, rerank: 48 });
    const rows: Float32Array[] = [];
    for (let i = 0; i < 4_000; i++) {
      const r = randomUnit(next);
      if (i < 50) rows.push(r);
      ix.upsertSync(P, meta(`e${i}`), r);
    }
    let found = 0;
    for (let t = 0; t < 50; t++) if (ix.searchSync(P, near(rows[t] as Float32Array, 0.6, next), 1, 0)[0]?.meta.id === `e${t}`) found++;
    expect(found).toBeGreaterThanOrEqual(48);
  });

  it("removes by swapping the last row in, skips expired rows, and re-upserts in place", () => {
    const next = rng(3);
    const a = randomUnit(next);
    const b = randomUnit(next);
    const c = randomUnit(next);
    const ix = new InProcessVectorIndex({ dim: DIM, compact: true });
    ix.upsertSync(P, meta("a"), a);
    ix.upsertSync(P, meta("b", 10), b);
    ix.upsertSync(P, meta("c"), c);
    ix.removeEntry(P, "a");
    expect(ix.searchSync(P, c, 1, 0)[0]?.meta.id).toBe("c"); // c moved into a's row
    expect(ix.searchSync(P, b, 1, 100)[0]?.meta.id).not.toBe("b"); // expired at 100
    ix.upsertSync(P, meta("c"), a);
    expect(ix.size()).toBe(1);
    expect(ix.searchSync(P, a, 1, 0)[0]?.score).toBeGreaterThan(0.99);
  });

  it("large partitions move to WebAssembly memory and rank as the JavaScript kernels do, through growth and removal", () => {
    const next = rng(21);
    const dim = 100;
    const unit = (): Float32Array => {
      const v = new Float32Array(dim).map(() => next() - 0.5);
      const n = Math.hypot(...v);
      return v.map((x) => x / n);
    };
    const plan = codePlan(dim);
    const simd = new CompactPartition(dim, "ns", plan, 1_000, 64);
    const js = new CompactPartition(dim, "ns", plan, 1_000, 64, false);
    const rows = Array.from({ length: 3_000 }, unit);
    rows.forEach((r, i) => {
      simd.upsert(meta(`e${i}`), r);
      js.upsert(meta(`e${i}`), r);
    });
    for (let i = 0; i < 3_000; i += 7) {
      simd.remove(`e${i}`);
      js.remove(`e${i}`);
    }
    expect(simd.usesArena).toBe(true);
    expect(js.usesArena).toBe(false);
    for (let t = 1; t < 60; t++) {
      const q = rows[(t * 37) % rows.length] as Float32Array;
      const a = simd.search(q, 5, 0).matches;
      const b = js.search(q, 5, 0).matches;
      expect(a.map((m) => m.meta.id)).toEqual(b.map((m) => m.meta.id));
      a.forEach((m, i) => expect(Math.abs(m.score - (b[i]?.score ?? 0))).toBeLessThan(1e-4));
    }
  });
});
