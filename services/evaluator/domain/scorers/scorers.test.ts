import { describe, expect, it } from "vitest";
import {
  agreementKind,
  agreementScorer,
  checksScorer,
  combineVerdicts,
  defaultScorers,
  isNumericQuestion,
  runScorers,
  ScorerSkip,
  similarityScorer,
  type Scorer,
  type ScorerInput,
  type ScorerRequest,
  type ScorerResult,
} from "./index.ts";

const ask = (content: string, extra: Partial<ScorerRequest> = {}): ScorerRequest => ({ messages: [{ role: "user", content }], ...extra });
const input = (reference: string, candidate: string, more: Partial<ScorerInput> = {}): ScorerInput => ({
  request: ask("Tell me."),
  reference,
  candidate,
  ...more,
});

describe("checks scorer", () => {
  const checks = checksScorer();
  it.each([
    { name: "plain answer", inp: input("x", "Paris is the capital of France."), ok: true, detail: undefined },
    { name: "empty", inp: input("x", "  "), ok: false, detail: "empty" },
    { name: "truncated by length", inp: input("x", "The answer is", { candidateMeta: { finishReason: "length" } }), ok: false, detail: "truncated" },
    { name: "refusal", inp: input("x", "I'm sorry, but I can't help with that."), ok: false, detail: "refusal" },
    { name: "invalid JSON in JSON mode", inp: input("{}", "{a: 1}", { request: ask("JSON please", { response_format: { type: "json_object" } }) }), ok: false, detail: "invalid_json" },
    { name: "bad tool call", inp: input("", "", { request: ask("weather?", { tools: [{ type: "function", function: { name: "w" } }] }), candidateMeta: { finishReason: "tool_calls", toolCalls: [{ name: "w", arguments: "{oops" }] } }), ok: false, detail: "tool_call_bad_arguments" },
    { name: "wrong arithmetic, math category", inp: input("x", "6 + 3 = 10 apples.\n#### 10", { category: "math" }), ok: false, detail: "arithmetic_error" },
    { name: "wrong arithmetic ignored outside math", inp: input("x", "6 + 3 = 10 apples.\n#### 10", { category: "chat" }), ok: true, detail: undefined },
    { name: "final answer not derived, math", inp: input("x", "3 x 4 = 12 legs.\n#### 14", { category: "gsm8k" }), ok: false, detail: "final_not_derived" },
  ])("$name", async ({ inp, ok, detail }) => {
    const v = await checks.score(inp);
    expect(v.ok).toBe(ok);
    if (detail) expect(v.detail).toContain(detail);
    expect(v.score).toBeGreaterThanOrEqual(0);
    expect(v.score).toBeLessThanOrEqual(1);
    if (ok) expect(v.score).toBe(1);
  });

  it("applies an expected format when given", async () => {
    const s = checksScorer({ expectFormat: () => "gsm8k" });
    expect((await s.score(input("x", "So it is 60."))).detail).toContain("format_mismatch");
    expect((await s.score(input("x", "So it is 60.\n#### 60"))).ok).toBe(true);
  });
});

describe("agreement scorer", () => {
  const agree = agreementScorer();
  const math = ask("Carla downloads 200 GB at 2 GB/minute. How long does it take?");
  const cases: { name: string; inp: ScorerInput; kind: string; ok: boolean }[] = [
    { name: "same final number, different wording", inp: input("...so the total is 160 minutes.", "40 + 20 + 100 = 160\n#### 160", { request: math }), kind: "number", ok: true },
    { name: "different final number", inp: input("...so the total is 160 minutes.", "40 + 20 = 60\n#### 60 minutes", { request: math }), kind: "number", ok: false },
    { name: "number formats: $20.00 vs 20", inp: input("#### $20.00", "#### 20", { category: "math" }), kind: "number", ok: true },
    { name: "math category, candidate has no number", inp: input("It is 12.", "I cannot tell.", { category: "math" }), kind: "number", ok: false },
    { name: "boxed vs marker", inp: input("Thus \\boxed{7}.", "The answer is 7."), kind: "number", ok: true },
    { name: "option letters agree", inp: input("The answer is (B).", "Answer: B"), kind: "choice", ok: true },
    { name: "option letters differ", inp: input("The answer is (B).", "The answer is (C)."), kind: "choice", ok: false },
    { name: "mmlu category, leading letter", inp: input("B) 1848", "B. The year 1848", { category: "mmlu-history" }), kind: "choice", ok: true },
    { name: "JSON mode, key order differs", inp: input('{"a": 1, "b": {"c": 2}}', '```json\n{"b": {"c": 2}, "a": 1}\n```', { request: ask("json", { response_format: { type: "json_object" } }) }), kind: "json", ok: true },
    { name: "JSON values differ", inp: input('{"a": 1, "b": 2}', '{"a": 1, "b": 3}'), kind: "json", ok: false },
    { name: "JSON mode, candidate not JSON", inp: input('{"a": 1}', "a is one", { request: ask("json", { response_format: { type: "json_object" } }) }), kind: "json", ok: false },
    { name: "code equal up to whitespace", inp: input("Use:\n```python\ndef f(x):\n    return x+1\n```", "Here you go\n```py\ndef f(x):\n  return x+1\n\n```"), kind: "code", ok: true },
    { name: "code differs", inp: input("```js\nreturn a + b;\n```", "```js\nreturn a - b;\n```"), kind: "code", ok: false },
    { name: "text paraphrase", inp: input("Paris is the capital of France.", "The capital of France is Paris."), kind: "text", ok: true },
    { name: "text unrelated", inp: input("Paris is the capital of France.", "Bananas are yellow."), kind: "text", ok: false },
    { name: "prose with stray numbers stays text", inp: input("Here are 3 tips for sleep: be regular, keep it dark, avoid screens after 9.", "Three tips: keep a regular schedule, a dark room, and no screens late, e.g. after 10."), kind: "text", ok: false },
  ];
  it.each(cases)("$name", async ({ inp, kind, ok }) => {
    expect(agreementKind(inp)).toBe(kind);
    const v = await agree.score(inp);
    expect(v.ok).toBe(ok);
    expect(v.detail).toMatch(new RegExp(`^${kind}`));
    if (ok) expect(v.score).toBe(1);
    else expect(v.score).toBeLessThan(1);
  });

  it.each([
    ["How many apples are left?", false],
    ["She has 3 apples. How many are left?", true],
    ["Tom ran 5 miles on Monday and 7 on Tuesday. What's the distance covered in the two days?", true],
    ["What percentage of 40 is 10?", true],
    ["Summarise the 3 key points.", false],
    ["What happened in 1848?", false],
  ])("isNumericQuestion(%j) = %s", (q, yes) => {
    expect(isNumericQuestion(q)).toBe(yes);
  });

  it("honours the text threshold", async () => {
    const inp = input("red green blue yellow", "red green black white");
    expect((await agreementScorer({ textThreshold: 0.4 }).score(inp)).ok).toBe(true);
    expect((await agreementScorer({ textThreshold: 0.6 }).score(inp)).ok).toBe(false);
  });
});

describe("similarity scorer", () => {
  it("scores identical text 1 and applies its threshold; advisory unless it votes", async () => {
    const s = similarityScorer({ threshold: 0.9 });
    expect(s.advisory).toBe(true);
    expect(similarityScorer({ vote: true }).advisory).toBe(false);
    expect(await s.score(input("The cat sat.", "the cat sat"))).toMatchObject({ ok: true, score: 1 });
    const far = await s.score(input("The cat sat on the mat.", "Quantum chromodynamics"));
    expect(far.ok).toBe(false);
    expect(far.score).toBeLessThan(0.3);
  });
});

const fixed = (name: string, ok: boolean, score: number, advisory = false): Scorer => ({ name, advisory, score: async () => ({ ok, score, detail: `${name} said ${ok}` }) });
const result = (scorer: string, status: ScorerResult["status"], ok: boolean, score: number, advisory = false): ScorerResult => ({ scorer, status, advisory, ok, score, ms: 0 });

describe("runScorers", () => {
  it("keeps every scorer's verdict in order, skips and errors included", async () => {
    const skip: Scorer = { name: "judge", score: async () => { throw new ScorerSkip("same family"); } };
    const boom: Scorer = { name: "boom", score: async () => { throw new Error("network down"); } };
    const r = await runScorers([fixed("a", true, 1), skip, boom, fixed("b", true, 0.8), fixed("sim", false, 0.2, true)], input("x", "y"));
    expect(r.results.map((x) => [x.scorer, x.status, x.ok])).toEqual([
      ["a", "ran", true],
      ["judge", "skipped", false],
      ["boom", "error", false],
      ["b", "ran", true],
      ["sim", "ran", false],
    ]);
    expect(r.results[1]!.detail).toBe("same family");
    expect(r.results[2]!.detail).toBe("network down");
    // The advisory "sim" does not vote; the skipped and errored ones do not count; the error marks it incomplete.
    expect(r.combined).toEqual({ ok: true, score: 0.8, rule: "all", counted: ["a", "b"], incomplete: true });
  });

  it("clamps scores to 0..1", async () => {
    const r = await runScorers([fixed("hi", true, 7), fixed("lo", false, -1)], input("x", "y"));
    expect(r.results.map((x) => x.score)).toEqual([1, 0]);
  });

  it("defaultScorers: checks, agreement, similarity, judge only when configured", () => {
    expect(defaultScorers().map((s) => s.name)).toEqual(["checks", "agreement", "similarity"]);
    expect(defaultScorers({ judge: { model: "claude-x", complete: async () => "VERDICT: TIE" } }).map((s) => s.name)).toEqual(["checks", "agreement", "similarity", "judge"]);
  });
});

describe("combineVerdicts", () => {
  const rs = [result("a", "ran", true, 1), result("b", "ran", false, 0.4), result("c", "ran", true, 0.9)];
  it.each([
    ["all", false, 0.4],
    ["majority", true, 0.767],
    ["any", true, 1],
  ] as const)("rule %s", (rule, ok, score) => {
    const c = combineVerdicts(rs, rule);
    expect(c.ok).toBe(ok);
    expect(c.score).toBeCloseTo(score, 3);
  });

  it("no verdict is not ok; advisory scorers vote only when asked", () => {
    expect(combineVerdicts([result("j", "skipped", false, 0)])).toMatchObject({ ok: false, score: 0, counted: [] });
    const withAdvisory = [result("a", "ran", true, 1), result("sim", "ran", false, 0.3, true)];
    expect(combineVerdicts(withAdvisory).ok).toBe(true);
    expect(combineVerdicts(withAdvisory, "all", { includeAdvisory: true }).ok).toBe(false);
  });
});
