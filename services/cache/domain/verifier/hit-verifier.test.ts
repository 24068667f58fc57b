import { describe, expect, it } from "vitest";
import { InProcessVectorIndex } from "../../store/inprocess-vector-index.ts";
import { MemoryExactStore } from "../../store/memory-exact-store.ts";
import { defaultCacheConfig } from "../config.ts";
import { CacheEngine } from "../engine.ts";
import { HashedNgramEmbedder } from "../hashed-embedder.ts";
import { createLocalEmbedder } from "../local-embedder.ts";
import { fitLogistic, predictLogistic } from "./logistic.ts";
import { HitVerifier, loadShippedVerifierWeights, parseVerifierWeights } from "./hit-verifier.ts";
import { FEATURE_NAMES, pairFeatures } from "./pair-features.ts";

const embedder = createLocalEmbedder();
const weights = loadShippedVerifierWeights();

async function cosine(a: string, b: string): Promise<number> {
  const [va, vb] = await embedder.embed([a, b]);
  let s = 0;
  for (let d = 0; d < embedder.dim; d++) s += ((va as Float32Array)[d] as number) * ((vb as Float32Array)[d] as number);
  return s;
}

describe("HitVerifier (shipped weights)", () => {
  const verifier = new HitVerifier(weights, embedder);

  it("is trained for the shipped local embedder", () => {
    expect(weights.embedder).toBe(`${embedder.name}@${embedder.version}`);
    expect(weights.threshold).toBeGreaterThan(0.5);
  });

  it("rates a paraphrase above a one-word change of meaning", async () => {
    const q = "What is the capital of France?";
    const para = "What is France's capital?";
    const flip = "What is the capital of Germany?";
    const pPara = verifier.probability(q, para, await cosine(q, para));
    const pFlip = verifier.probability(q, flip, await cosine(q, flip));
    expect(pPara).toBeGreaterThan(pFlip);
    expect(pFlip).toBeLessThan(verifier.threshold);
  });

  it("computes one value per named feature", async () => {
    expect(pairFeatures("a question?", "another question?", 0.5, embedder)).toHaveLength(FEATURE_NAMES.length);
  });

  it("refuses weights for another feature list", () => {
    const bad = { ...weights, model: { ...weights.model, features: weights.model.features.slice(1) } };
    expect(() => new HitVerifier(bad, embedder)).toThrow(/features/);
    expect(() => parseVerifierWeights(JSON.stringify({ ...weights, format: "other/9" }))).toThrow();
  });

  it("the engine ignores it with another embedder (its scores would mean something else)", () => {
    const hashed = new HashedNgramEmbedder();
    const engine = new CacheEngine({ exact: new MemoryExactStore(), vectors: new InProcessVectorIndex({ dim: hashed.dim, maxEntriesPerTenant: 10 }), embedder: hashed, verifier });
    expect(engine.verifierActive).toBe(false);
    const local = new CacheEngine({ exact: new MemoryExactStore(), embedder, verifier });
    expect(local.verifierActive).toBe(true);
    const off = new CacheEngine({ config: { ...defaultCacheConfig, verifier: { enabled: false, thresholds: {} } }, exact: new MemoryExactStore(), embedder, verifier });
    expect(off.verifierActive).toBe(false);
  });
});

describe("fitLogistic", () => {
  it("separates a separable set and predicts through the standardisation", () => {
    const rows = Array.from({ length: 200 }, (_, i) => [i / 200, (i % 7) / 7]);
    const labels = rows.map((r) => (r[0] as number) > 0.5);
    const m = fitLogistic(["x", "noise"], rows, labels, { iterations: 500 });
    expect(predictLogistic(m, [0.9, 0.3])).toBeGreaterThan(0.8);
    expect(predictLogistic(m, [0.1, 0.3])).toBeLessThan(0.2);
    expect(() => fitLogistic(["x"], [], [])).toThrow();
  });
});
