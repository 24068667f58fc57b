import { describe, expect, it } from "vitest";
import { parseWinkVectors } from "./word-vectors.ts";

const file = JSON.stringify({
  precision: 8,
  l2NormIndex: 3,
  wordIndex: 4,
  size: 3,
  dimensions: 3,
  words: ["the", '"', "cat"],
  vectors: { the: [0.5, -1.25, 2e-3, 1.4, 0], '"': [-0.1, 0, 3, 3, 1], cat: [1, 2, -3.5e1, 35, 2] },
  unkVector: [0, 0, 0, -1],
});

describe("parseWinkVectors", () => {
  it("reads words in rank order and their vectors, escapes and exponents included", () => {
    const v = parseWinkVectors(Buffer.from(file), 10, true);
    expect(v).toBeDefined();
    if (!v) return;
    expect(v.dim).toBe(3);
    expect(v.size).toBe(3);
    expect(v.vocabulary).toBe(3);
    expect(v.rankOf('"')).toBe(1);
    expect([...v.data.subarray(0, 3)].map((x) => +x.toFixed(4))).toEqual([0.5, -1.25, 0.002]);
    expect([...v.data.subarray(6, 9)]).toEqual([1, 2, -35]);
  });

  it("keeps only the most frequent words", () => {
    const v = parseWinkVectors(Buffer.from(file), 2, true);
    expect(v?.size).toBe(2);
    expect(v?.rankOf("cat")).toBe(-1);
  });

  it("asks for more bytes when a prefix is too short", () => {
    expect(parseWinkVectors(Buffer.from(file.slice(0, 60)), 3)).toBeUndefined();
    expect(parseWinkVectors(Buffer.from(file.slice(0, file.indexOf("cat\":") + 8)), 3)).toBeUndefined();
  });
});
