import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadWinkWordVectors } from "./word-vectors-file.ts";
import { parseWinkVectors } from "./word-vectors.ts";

// A wink-format file: 40 words, 6 dimensions, entries in rank order, escapes and exponents included.
const words = Array.from({ length: 40 }, (_, i) => (i === 3 ? '"q"' : i === 7 ? "naïve" : `w${i}`));
const dim = 6;
const vec = (r: number): number[] => Array.from({ length: dim }, (_, d) => Number((Math.sin(r * 7 + d) * (d === 2 ? 1e-3 : 3)).toPrecision(5)));
const json = JSON.stringify({
  precision: 8,
  l2NormIndex: dim,
  wordIndex: dim + 1,
  size: words.length,
  dimensions: dim,
  words,
  vectors: Object.fromEntries(words.map((w, r) => [w, [...vec(r), 1.5, r]])),
  unkVector: [0, 0, 0, 0, 0, 0, 0, -1],
}).replace("0.001", "1e-3");

const dir = mkdtempSync(join(tmpdir(), "llmgw-wink-"));
const file = join(dir, "vectors.json");
writeFileSync(file, json);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const row = (t: { addRow(r: number, k: number, acc: Float32Array): void }, r: number): number[] => {
  const acc = new Float32Array(dim);
  t.addRow(r, 1, acc);
  return [...acc];
};

describe("loadWinkWordVectors", () => {
  const dense = parseWinkVectors(Buffer.from(json), 30, true);
  if (!dense) throw new Error("fixture does not parse");

  for (const chunkBytes of [2 ** 20, 64, 100, 7]) {
    it(`gives the rows of the in-memory parser, resident or read from the file (chunks of ${chunkBytes} bytes)`, () => {
      const t = loadWinkWordVectors(30, file, { residentRows: 10, chunkBytes });
      expect([t.dim, t.size, t.vocabulary]).toEqual([dim, 30, 40]);
      for (let r = 0; r < 30; r++) {
        expect(t.rankOf(words[r] as string)).toBe(r);
        expect(row(t, r)).toEqual(row(dense, r));
        expect(row(t, r)).toEqual(row(dense, r)); // again: from the row cache
      }
      expect(t.rankOf("w35")).toBe(-1);
      expect(t.rankOf("nope")).toBe(-1);
      t.close();
    });
  }

  it("accumulates k * row into the accumulator, like the in-memory table", () => {
    const t = loadWinkWordVectors(30, file, { residentRows: 2 });
    const a = new Float64Array(dim).fill(0.25);
    const b = new Float64Array(dim).fill(0.25);
    for (const r of [0, 5, 29]) {
      t.addRow(r, 0.37, a);
      dense.addRow(r, 0.37, b);
    }
    expect([...a]).toEqual([...b]);
    t.close();
  });

  it("fails on a file with fewer words than asked for", () => {
    expect(() => loadWinkWordVectors(30, file, { chunkBytes: 64 }).close()).not.toThrow();
    const short = join(dir, "short.json");
    writeFileSync(short, json.slice(0, json.indexOf('"w20":')));
    expect(() => loadWinkWordVectors(30, short)).toThrow(/fewer than 30/);
  });
});
