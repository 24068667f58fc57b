import { describe, expect, it } from "vitest";
import { charNgrams, cosine, textSimilarity, wordNgrams } from "./similarity.ts";

describe("text similarity", () => {
  it("counts character and word n-grams of normalised text", () => {
    expect([...charNgrams("Ab", 3).entries()]).toEqual([[" ab", 1], ["ab ", 1]]);
    expect([...wordNgrams("the cat sat, the cat", 2).entries()]).toEqual([
      ["cat", 2],
      ["sat", 1],
      ["cat sat", 1],
      ["sat cat", 1],
    ]);
  });

  it("cosine of known vectors", () => {
    const a = new Map([["x", 1], ["y", 1]]);
    const b = new Map([["x", 1]]);
    expect(cosine(a, b)).toBeCloseTo(Math.SQRT1_2, 12);
    expect(cosine(new Map(), new Map())).toBe(1);
    expect(cosine(a, new Map())).toBe(0);
  });

  it.each([
    ["identical", "The total is 42 apples.", "The total is 42 apples.", 1, 1],
    ["case and punctuation only", "The total is 42 apples", "the TOTAL is 42 apples!!", 1, 1],
    ["paraphrase", "Carl buys 60 cookies for $6, so his change is $4.", "Carl's change is $4 after buying 60 cookies for $6.", 0.5, 0.99],
    ["unrelated", "Paris is the capital of France.", "Photosynthesis converts light into chemical energy.", 0, 0.3],
  ])("%s", (_n, a, b, lo, hi) => {
    const s = textSimilarity(a, b);
    expect(s).toBeGreaterThanOrEqual(lo - 1e-12);
    expect(s).toBeLessThanOrEqual(hi + 1e-12);
    expect(textSimilarity(b, a)).toBeCloseTo(s, 12);
  });

  it("is deterministic and honours the weights", () => {
    const a = "abc def";
    const b = "abc xyz";
    expect(textSimilarity(a, b)).toBe(textSimilarity(a, b));
    expect(textSimilarity(a, b, { charWeight: 1 })).toBeCloseTo(cosine(charNgrams(a), charNgrams(b)), 12);
    expect(textSimilarity(a, b, { charWeight: 0 })).toBeCloseTo(cosine(wordNgrams(a), wordNgrams(b)), 12);
  });
});
