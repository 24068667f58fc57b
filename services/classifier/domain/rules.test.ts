import { describe, expect, it } from "vitest";
import type { TierName } from "#libs/config/closed-sets.ts";
import { RulesClassifier } from "./rules.ts";
import type { Category, ClassifyInput } from "./types.ts";

const user = (content: string, extra: Partial<ClassifyInput> = {}): ClassifyInput => ({
  messages: [{ role: "user", content }],
  hasTools: false,
  jsonMode: false,
  ...extra,
});

const rules = new RulesClassifier();

describe("RulesClassifier", () => {
  const cases: { name: string; input: ClassifyInput; category?: Category; tier?: TierName; tiers?: TierName[] }[] = [
    { name: "tool request", input: user("Book me a flight to Paris", { hasTools: true }), category: "agentic", tier: "AGENTIC" },
    { name: "greeting", input: user("hi there!"), category: "chat", tier: "LOW" },
    { name: "translation", input: user("Translate 'good morning' into French."), category: "translation", tier: "LOW" },
    { name: "summary", input: user("Summarize this article: The council met on Tuesday to discuss the budget."), category: "summarization", tier: "LOW" },
    { name: "code", input: user("Write a Python function that parses a CSV file and returns rows sorted by the second column."), category: "code", tiers: ["MEDIUM", "HIGH"] },
    { name: "fact", input: user("What is the capital of France?"), category: "qa", tier: "LOW" },
    { name: "extraction", input: user("Extract all person names from the text: Alice met Bob in Paris.", { jsonMode: true }), category: "extraction" },
    { name: "classification", input: user("Classify the sentiment of this review: I loved it."), category: "classification", tier: "LOW" },
    { name: "creative", input: user("Write a short poem about autumn leaves."), category: "creative", tier: "LOW" },
    {
      name: "multi-step proof",
      input: user("Prove that there are infinitely many primes of the form 4k+3, step by step. Explain why each step holds and justify the final contradiction."),
      tier: "HIGH",
    },
    {
      name: "multi-step arithmetic",
      input: user("A shop sells 12 apples at $3 each and 7 pears at $4.50 each. After a 15% discount and 8% tax, how much does a customer pay for 3 apples and 5 pears? Solve step by step."),
      category: "math",
      tier: "HIGH",
    },
  ];
  it.each(cases)("$name", ({ input, category, tier, tiers }) => {
    const c = rules.classify(input);
    if (category) expect(c.category).toBe(category);
    if (tier) expect(c.tier).toBe(tier);
    if (tiers) expect(tiers).toContain(c.tier);
    expect(c.classifier).toBe("rules@1");
    expect(c.strongProbability).toBeGreaterThanOrEqual(0);
    expect(c.strongProbability).toBeLessThanOrEqual(1);
    expect(c.confidence).toBeGreaterThanOrEqual(0.5);
    expect(c.confidence).toBeLessThanOrEqual(1);
  });

  it("threshold is tunable: a low threshold sends everything to HIGH", () => {
    const eager = new RulesClassifier({ thresholds: { high: 0, medium: 0 } });
    expect(eager.classify(user("hi")).tier).toBe("HIGH");
    const never = new RulesClassifier({ thresholds: { high: 1.1, medium: 1.1 } });
    expect(never.classify(user("Prove the Riemann hypothesis step by step and explain why")).tier).toBe("LOW");
  });

  it("weights are tunable", () => {
    const codeHeavy = new RulesClassifier({ weights: { bias: 3 } });
    expect(codeHeavy.classify(user("hi")).tier).toBe("HIGH");
  });

  it("gives reasons", () => {
    const c = rules.classify(user("Why is the sky blue? Explain step by step."));
    expect(c.reasons.length).toBeGreaterThan(0);
  });
});
