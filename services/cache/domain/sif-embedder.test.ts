import { describe, expect, it } from "vitest";
import { dot } from "./hashed-embedder.ts";
import { createLocalEmbedder } from "./local-embedder.ts";
import { SifHybridEmbedder } from "./sif-embedder.ts";
import { DenseWordVectors, type WordVectors } from "./word-vectors.ts";

/** A hand-made 4-d table: "car"/"automobile" share a direction, "banana" does not. */
function tinyTable(): WordVectors {
  const words = ["the", "a", "is", "car", "automobile", "banana", "fast", "quick", "yellow"];
  const vecs = [
    [1, 1, 1, 1],
    [1, 1, 1, 0.9],
    [1, 0.9, 1, 1],
    [5, 0, 0, 1],
    [4.8, 0.3, 0, 1],
    [0, 0, 5, -1],
    [0, 5, 0, 1],
    [0.2, 4.7, 0, 1],
    [0, 0, 4, 3],
  ];
  return DenseWordVectors.from(words, Float32Array.from(vecs.flat()), 4, 50_000);
}

const norm = (v: Float32Array): number => Math.sqrt(dot(v, v));

describe("SifHybridEmbedder (synthetic table)", () => {
  let loads = 0;
  const e = new SifHybridEmbedder({
    loadVectors: () => {
      loads++;
      return tinyTable();
    },
    vectorsId: "tiny",
    semanticDim: 4,
    lexical: { dim: 64 },
  });

  it("is deterministic and unit length, and loads its table once", async () => {
    const [a, b] = await e.embed(["The car is fast", "The car is fast"]);
    expect(a).toEqual(b);
    expect(norm(a as Float32Array)).toBeCloseTo(1, 5);
    expect(e.dim).toBe(4 + 64);
    expect(loads).toBe(1);
  });

  it("puts a synonym paraphrase closer than an unrelated text", () => {
    const q = e.embedOne("the car is fast");
    const para = e.embedOne("the automobile is quick");
    const other = e.embedOne("a banana is yellow");
    expect(dot(q, para)).toBeGreaterThan(dot(q, other) + 0.2);
  });

  it("falls back to the lexical part when no word is known, still unit length", () => {
    const v = e.embedOne("zzyzx qwerty");
    expect(norm(v)).toBeCloseTo(1, 5);
  });

  it("every knob is in the version", () => {
    const other = new SifHybridEmbedder({ loadVectors: tinyTable, vectorsId: "tiny", semanticDim: 4, lexical: { dim: 64 }, sifA: 0.01 });
    expect(other.version).not.toBe(e.version);
  });
});

describe("createLocalEmbedder (real word vectors from the npm package)", () => {
  const e = createLocalEmbedder();
  it("sees synonyms the lexical vector cannot", async () => {
    const [q, para, other] = await e.embed([
      "How can I purchase a cheap automobile?",
      "What is the way to buy an inexpensive car?",
      "How can I bake a chocolate cake?",
    ]);
    if (!q || !para || !other) throw new Error("missing vectors");
    expect(norm(q)).toBeCloseTo(1, 5);
    expect(dot(q, para)).toBeGreaterThan(dot(q, other));
    const [again] = await e.embed(["How can I purchase a cheap automobile?"]);
    expect(again).toEqual(q);
    expect(e.version).toMatch(/^2-glove100-wink/);
  }, 30_000);
});
