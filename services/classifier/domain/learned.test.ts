import { describe, expect, it } from "vitest";
import { parseRouterArtifact } from "./artifact.ts";
import { isHeldOut, parseBenchRow, targetOf } from "./benchmark.ts";
import { LearnedClassifier } from "./learned.ts";
import { thresholdForShare, trainRouter, type TrainExample } from "./train.ts";
import type { ClassifyInput } from "./types.ts";

const user = (content: string): ClassifyInput => ({ messages: [{ role: "user", content }], hasTools: false, jsonMode: false });

// Synthetic task: prompts about "quantum" / "topology" need the strong model, "weather" / "recipe" do not.
function synthetic(n: number): TrainExample[] {
  const hard = ["quantum entanglement proof", "algebraic topology homology", "quantum field renormalisation", "topology of manifolds"];
  const easy = ["weather today in town", "simple recipe for pancakes", "weather forecast tomorrow", "recipe with eggs"];
  const out: TrainExample[] = [];
  for (let i = 0; i < n; i++) {
    const isHard = i % 2 === 0;
    const pool = isHard ? hard : easy;
    out.push({ id: `s${i}`, input: user(`${pool[i % pool.length]} question number ${i}`), target: isHard ? 1 : 0 });
  }
  return out;
}

describe("learned router", () => {
  const examples = synthetic(80);
  const artifact = trainRouter(examples, { version: "test", trainedAt: "2020-01-01T00:00:00Z", featureConfig: { dim: 1 << 10 }, epochs: 5 });

  it("learns a separable synthetic task", () => {
    const clf = new LearnedClassifier(artifact);
    const pHard = clf.classify(user("a quantum topology question")).strongProbability;
    const pEasy = clf.classify(user("the weather and a recipe")).strongProbability;
    expect(pHard).toBeGreaterThan(0.6);
    expect(pEasy).toBeLessThan(0.4);
    expect(clf.classify(user("quantum entanglement proof please")).tier).toBe("HIGH");
    expect(clf.classify(user("weather today")).tier).not.toBe("HIGH");
    expect(clf.name).toBe("learned@test");
  });

  it("is deterministic and round-trips through JSON", () => {
    const again = trainRouter(examples, { version: "test", trainedAt: "2020-01-01T00:00:00Z", featureConfig: { dim: 1 << 10 }, epochs: 5 });
    expect(again.weights).toEqual(artifact.weights);
    expect(again.dataHash).toBe(artifact.dataHash);
    const loaded = LearnedClassifier.fromJSON(JSON.parse(JSON.stringify(artifact)));
    const a = new LearnedClassifier(artifact).strongProbability(user("quantum weather"));
    expect(loaded.strongProbability(user("quantum weather"))).toBeCloseTo(a, 12);
  });

  it("tier threshold is configurable", () => {
    const always = new LearnedClassifier(artifact, { high: 0, medium: 0 });
    expect(always.classify(user("weather today")).tier).toBe("HIGH");
    const tools = new LearnedClassifier(artifact).classify({ ...user("weather"), hasTools: true });
    expect(tools.tier).toBe("AGENTIC");
  });

  it("rejects a malformed artifact", () => {
    expect(() => parseRouterArtifact({ format: "llmgw-router", version: "x" })).toThrow();
    expect(() => new LearnedClassifier({ ...artifact, weights: [1, 2, 3] })).toThrow(/weights/);
  });

  it("thresholdForShare picks the quantile", () => {
    expect(thresholdForShare([0.1, 0.9, 0.5, 0.7], 0.5)).toBe(0.7);
    expect(thresholdForShare([0.1, 0.9, 0.5, 0.7], 1)).toBe(0.1);
  });
});

describe("benchmark rows", () => {
  it("parses GSM8K/MMLU rows and targets", () => {
    const r = parseBenchRow({ id: "a", dataset: "gsm8k", category: "math", prompt: "1+1?", weak_correct: false, strong_correct: true, weak_response: "2" });
    expect(r.weakQuality).toBe(0);
    expect(r.strongQuality).toBe(1);
    expect(r.weakResponse).toBe("2");
    expect(targetOf(r, "need")).toBe(1);
    expect(targetOf(r, "weakfail")).toBe(1);
    const both = parseBenchRow({ id: "b", prompt: "x", weak_correct: false, strong_correct: false });
    expect(targetOf(both, "need")).toBe(0);
    expect(targetOf(both, "soft")).toBe(0.5);
  });

  it("parses MT-Bench rows: prompt = turns up to `turn`, grouped by question", () => {
    const r = parseBenchRow({ id: "mt81-2", category: "writing", turn: 2, turns: ["first", "second"], weak_score: 9, strong_score: 10 });
    expect(r.input.messages.map((m) => m.content)).toEqual(["first", "second"]);
    expect(r.group).toBe("mt81");
    expect(r.weakQuality).toBeCloseTo(0.9);
    const r1 = parseBenchRow({ id: "mt81-1", turn: 1, turns: ["first", "second"], weak_score: 9, strong_score: 10 });
    expect(r1.input.messages).toHaveLength(1);
    expect(isHeldOut(r.group)).toBe(isHeldOut(r1.group));
  });
});
