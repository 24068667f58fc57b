import { describe, expect, it } from "vitest";
import { DowngradeStats, wilsonLower } from "./downgrade.ts";
import { finalNumber, scoreAnswer } from "./score.ts";

const ans = (content: string, finishReason = "stop") => ({ content, finishReason, toolCalls: [] });
const req = { jsonMode: false, hasTools: false };

describe("scoreAnswer", () => {
  it.each([
    ["same final number", "So the answer is 42.", "The total is 42", true],
    ["different final number", "So the answer is 41.", "The total is 42", false],
    ["paraphrase", "Paris is the capital of France.", "The capital of France is Paris.", true],
    ["unrelated", "Bananas are yellow fruit.", "The capital of France is Paris.", false],
  ])("%s", (_n, cand, ref, ok) => {
    expect(scoreAnswer(req, ans(cand), ans(ref)).ok).toBe(ok);
  });

  it("fails a truncated candidate whatever the reference", () => {
    const s = scoreAnswer(req, ans("The answer is", "length"), ans("The answer is 4"));
    expect(s.ok).toBe(false);
    expect(s.failures).toContain("truncated");
  });

  it("reads final numbers with thousands separators", () => {
    expect(finalNumber("costs $1,234.50 in total")).toBe(1234.5);
  });
});

describe("downgrade stats", () => {
  it("is safe only with enough passing samples", () => {
    const s = new DowngradeStats();
    const key = { tenant: "t", category: "qa", tier: "HIGH", from: "gpt-4o", to: "gpt-4o-mini" };
    for (let i = 0; i < 10; i++) s.record(key, true);
    expect(s.report("t")[0]?.safe).toBe(false);
    for (let i = 0; i < 90; i++) s.record(key, true);
    expect(s.report("t")[0]?.safe).toBe(true);
    expect(s.report("other")).toEqual([]);
  });

  it("computes the Wilson bound", () => {
    expect(wilsonLower(0, 0)).toBe(0);
    expect(wilsonLower(50, 100)).toBeCloseTo(0.4038, 3);
  });
});
