import { describe, expect, it } from "vitest";
import { judgeMessages, judgeScorer, modelFamily, parseJudgeVerdict, sameFamily, ScorerSkip, type JudgeMessages, type ScorerInput } from "./index.ts";

const input = (more: Partial<ScorerInput> = {}): ScorerInput => ({
  request: { messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "What is 2+2?" }] },
  reference: "REF: 4",
  candidate: "CAND: 4",
  models: { reference: "gpt-4o", candidate: "gpt-4o-mini" },
  ...more,
});

/** A fake judge: sees which answer is in position 1 and answers with `decide(first, second)`. */
function fake(decide: (first: string, second: string) => string): { complete: (m: JudgeMessages) => Promise<string>; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    complete: async (messages) => {
      const user = String(messages.at(-1)?.content ?? "");
      const first = /\[Answer 1\]\n(.*)\n/.exec(user)?.[1] ?? "";
      const second = /\[Answer 2\]\n(.*)\n/.exec(user)?.[1] ?? "";
      calls.push(`${first} | ${second}`);
      return `Both are fine.\n${decide(first, second)}`;
    },
  };
}

describe("model family", () => {
  it.each([
    ["gpt-4o-mini", "openai"],
    ["o3-mini", "openai"],
    ["openai/gpt-4.1", "openai"],
    ["claude-sonnet-4-5", "anthropic"],
    ["anthropic/claude-3-haiku", "anthropic"],
    ["Mixtral-8x7B-Instruct-v0.1", "mistral"],
    ["mistralai/Mistral-7B-Instruct", "mistral"],
    ["gemini-2.5-pro", "google"],
    ["meta-llama/Llama-3.1-70B-Instruct", "meta"],
    ["qwen2.5-72b", "qwen"],
    ["acme-large-2", "acme"],
  ])("%s → %s", (id, family) => {
    expect(modelFamily(id)).toBe(family);
  });

  it("compares families", () => {
    expect(sameFamily("gpt-4o", "o1")).toBe(true);
    expect(sameFamily("gpt-4o", "claude-opus-4")).toBe(false);
  });
});

describe("parseJudgeVerdict", () => {
  it.each([
    ["Reason.\nVERDICT: 1", "1"],
    ["verdict: tie", "tie"],
    ["**VERDICT: 2**", "2"],
    ["VERDICT: [1]", "1"],
    ["First VERDICT: 1 ... on reflection VERDICT: 2", "2"],
    ["I prefer answer 1.", undefined],
  ])("%j → %s", (text, v) => {
    expect(parseJudgeVerdict(text)).toBe(v);
  });
});

describe("judge scorer", () => {
  it("asks in both orders and shows the request", async () => {
    const f = fake(() => "VERDICT: TIE");
    const v = await judgeScorer({ model: "claude-sonnet-4-5", complete: f.complete }).score(input());
    expect(f.calls.sort()).toEqual(["CAND: 4 | REF: 4", "REF: 4 | CAND: 4"]);
    expect(v).toMatchObject({ ok: true, score: 1 });
    const msgs = judgeMessages(input().request, "A", "B");
    expect(String(msgs[1]!.content)).toContain("What is 2+2?");
    expect(String(msgs[1]!.content)).toContain("Be brief.");
  });

  it("a judge that always prefers position 1 cancels out: not accepted under 'both', accepted under 'either'", async () => {
    const f = fake(() => "VERDICT: 1");
    const both = await judgeScorer({ model: "claude-x", complete: f.complete }).score(input());
    expect(both).toMatchObject({ ok: false, score: 0.5 });
    const either = await judgeScorer({ model: "claude-x", complete: f.complete, require: "either" }).score(input());
    expect(either).toMatchObject({ ok: true, score: 0.5 });
  });

  it("consistent preferences decide", async () => {
    const prefersRef = fake((first) => (first.startsWith("REF") ? "VERDICT: 1" : "VERDICT: 2"));
    expect(await judgeScorer({ model: "claude-x", complete: prefersRef.complete }).score(input())).toMatchObject({ ok: false, score: 0 });
    const prefersCand = fake((first) => (first.startsWith("CAND") ? "VERDICT: 1" : "VERDICT: 2"));
    expect(await judgeScorer({ model: "claude-x", complete: prefersCand.complete }).score(input())).toMatchObject({ ok: true, score: 1 });
  });

  it("refuses a judge of the same family as either compared model, and unknown models", async () => {
    const f = fake(() => "VERDICT: TIE");
    await expect(judgeScorer({ model: "gpt-4.1", complete: f.complete }).score(input())).rejects.toBeInstanceOf(ScorerSkip);
    await expect(judgeScorer({ model: "claude-x", complete: f.complete }).score(input({ models: { reference: "claude-opus-4", candidate: "gpt-4o-mini" } }))).rejects.toBeInstanceOf(ScorerSkip);
    await expect(judgeScorer({ model: "claude-x", complete: f.complete }).score(input({ models: { reference: "gpt-4o" } }))).rejects.toBeInstanceOf(ScorerSkip);
    expect(f.calls).toEqual([]);
    await expect(judgeScorer({ model: "claude-x", complete: f.complete, allowUnknownModels: true }).score(input({ models: {} }))).resolves.toMatchObject({ ok: true });
  });

  it("an answer without a verdict line is an error, not a verdict", async () => {
    const f = fake(() => "no idea");
    await expect(judgeScorer({ model: "claude-x", complete: f.complete }).score(input())).rejects.toThrow(/VERDICT/);
  });

  it("cuts long texts in the middle", () => {
    const long = "x".repeat(50) + "MIDDLE" + "y".repeat(50);
    const content = String(judgeMessages({ messages: [{ role: "user", content: "q" }] }, long, "b", 40)[1]!.content);
    expect(content).toContain("characters omitted");
    expect(content).not.toContain("MIDDLE");
  });
});
