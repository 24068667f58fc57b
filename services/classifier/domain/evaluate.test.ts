import { describe, expect, it } from "vitest";
import { parseBenchRow } from "./benchmark.ts";
import { evaluateRouters } from "./evaluate.ts";
import { RulesClassifier } from "./rules.ts";

const rows = [
  { id: "1", dataset: "gsm8k", prompt: "What is 2+2?", weak_correct: true, strong_correct: true, weak_response: "2 + 2 = 4\n#### 4" },
  { id: "2", dataset: "gsm8k", prompt: "A train leaves at 3pm at 60 mph; another at 4pm at 80 mph. When does the second catch up? Explain step by step.", weak_correct: false, strong_correct: true, weak_response: "60 + 80 = 150\n#### 150" },
  { id: "3", dataset: "gsm8k", prompt: "How many legs do 3 cats have?", weak_correct: true, strong_correct: true, weak_response: "3 x 4 = 12\n#### 12" },
  { id: "4", dataset: "gsm8k", prompt: "Split $10 among 4 people.", weak_correct: false, strong_correct: false, weak_response: "Each gets 2.5\n#### 2.5" },
].map(parseBenchRow);

describe("evaluateRouters", () => {
  const rep = evaluateRouters(rows, { dataset: "tiny", classifiers: [new RulesClassifier()], now: () => 0n });

  it("reports reference points and every router", () => {
    expect(rep.n).toBe(4);
    expect(rep.reference).toEqual({ weak: 0.5, strong: 0.75, oracle: 0.75 });
    expect(rep.routers.map((r) => r.name)).toEqual(["all-weak", "all-strong", "random", "oracle", "rules@1", "cascade", "cascade+rules@1"]);
    const oracle = rep.routers.find((r) => r.name === "oracle")!;
    expect(oracle.strong_share).toBe(0.25);
    expect(oracle.cpt50).toBeCloseTo(0.125, 6);
    const random = rep.routers.find((r) => r.name === "random")!;
    expect(random.apgr).toBe(0.5);
    expect(rep.timing["rules@1"]).toBeDefined();
  });

  it("cascade escalates answers that fail the verifier, without labels", () => {
    const cascade = rep.routers.find((r) => r.name === "cascade")!;
    // Rows 2 (arithmetic error) and 4 (not a whole number) escalate.
    expect(cascade.strong_share).toBe(0.5);
    expect(cascade.verifier).toEqual({ precision: 1, recall: 1, escalated: 2 });
  });
});
