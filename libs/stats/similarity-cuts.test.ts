import { describe, expect, it } from "vitest";
import { wilsonInterval } from "./binomial.ts";
import { similarityBucket, similarityCuts } from "./similarity-cuts.ts";

describe("similarityCuts", () => {
  it("counts the audits at or above each similarity, ascending, with the wrong-hit rate's upper end", () => {
    const cuts = similarityCuts([
      { similarity: 0.93, audits: 4, wrong: 0 },
      { similarity: 0.8, audits: 10, wrong: 5 },
      { similarity: 0.87, audits: 6, wrong: 1 },
    ]);
    expect(cuts.map((c) => [c.similarity, c.audits, c.wrong])).toEqual([
      [0.8, 20, 6],
      [0.87, 10, 1],
      [0.93, 4, 0],
    ]);
    expect(cuts.map((c) => c.high)).toEqual([wilsonInterval(6, 20)[1], wilsonInterval(1, 10)[1], wilsonInterval(0, 4)[1]]);
  });

  it("buckets a similarity by its hundredth, rounded down, without float dust", () => {
    expect([0.29, 0.805, 0.8, 1, 0.999].map(similarityBucket)).toEqual([0.29, 0.8, 0.8, 1, 0.99]);
  });

  it("is empty without audits", () => {
    expect(similarityCuts([])).toEqual([]);
  });
});
