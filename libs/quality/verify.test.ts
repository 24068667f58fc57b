import { describe, expect, it } from "vitest";
import { checkArithmetic, evalArithmetic } from "./arithmetic.ts";
import { verifyAnswer, type VerifyAnswer, type VerifyOptions, type VerifyRequest } from "./verify.ts";

const req = (r: Partial<VerifyRequest> = {}): VerifyRequest => ({ jsonMode: false, hasTools: false, ...r });
const ans = (content: string | null, finishReason = "stop", toolCalls?: VerifyAnswer["toolCalls"]): VerifyAnswer =>
  toolCalls ? { content, finishReason, toolCalls } : { content, finishReason };

describe("verifyAnswer", () => {
  const cases: { name: string; request: VerifyRequest; answer: VerifyAnswer; options?: VerifyOptions; failures: string[] }[] = [
    { name: "plain good answer", request: req(), answer: ans("Paris is the capital of France."), failures: [] },
    { name: "empty", request: req(), answer: ans(""), failures: ["empty"] },
    { name: "null content, no tools", request: req(), answer: ans(null), failures: ["empty"] },
    { name: "truncated by length", request: req(), answer: ans("The answer is", "length"), failures: ["truncated"] },
    { name: "cut mid-annotation", request: req(), answer: ans("So 36 * 68/12 = $<<36*68/1"), failures: ["truncated"] },
    { name: "unclosed code fence", request: req(), answer: ans("```python\nprint(1)\n"), failures: ["truncated"] },
    { name: "content filter", request: req(), answer: ans("", "content_filter"), failures: ["empty", "content_filter"] },
    { name: "refusal", request: req(), answer: ans("I'm sorry, but I can't help with that request."), failures: ["refusal"] },
    { name: "curly-quote refusal", request: req(), answer: ans("I\u2019m unable to do that."), failures: ["refusal"] },
    { name: "hedging", request: req(), answer: ans("I'm not sure, but it might be 42."), failures: ["hedging"] },
    { name: "hedging, qualified", request: req(), answer: ans("I'm not entirely sure about this, but it might be that 42."), failures: ["hedging"] },
    { name: "hedging off", request: req(), answer: ans("I'm not sure, but it might be 42."), options: { hedgingFails: false }, failures: [] },
    { name: "valid JSON", request: req({ jsonMode: true }), answer: ans('{"a": 1}'), failures: [] },
    { name: "fenced JSON accepted", request: req({ jsonMode: true }), answer: ans('```json\n{"a": 1}\n```'), failures: [] },
    { name: "invalid JSON", request: req({ jsonMode: true }), answer: ans("{a: 1}"), failures: ["invalid_json"] },
    { name: "good tool call", request: req({ hasTools: true }), answer: ans(null, "tool_calls", [{ name: "get_weather", arguments: '{"city":"Paris"}' }]), failures: [] },
    { name: "tool call bad args", request: req({ hasTools: true }), answer: ans(null, "tool_calls", [{ name: "get_weather", arguments: "{city:" }]), failures: ["tool_call_bad_arguments"] },
    { name: "tool call array args", request: req({ hasTools: true }), answer: ans(null, "tool_calls", [{ name: "f", arguments: "[1]" }]), failures: ["tool_call_bad_arguments"] },
    { name: "tool call missing name", request: req({ hasTools: true }), answer: ans(null, "tool_calls", [{ name: "", arguments: "{}" }]), failures: ["tool_call_missing_name"] },
    { name: "final number present (####)", request: req({ expectFormat: "final-number" }), answer: ans("40 + 20 = 60\n#### 60 minutes"), failures: [] },
    { name: "final number present (answer is)", request: req({ expectFormat: "final-number" }), answer: ans("Thus the answer is $1,200.50."), failures: [] },
    { name: "no final number", request: req({ expectFormat: "final-number" }), answer: ans("It took 40 minutes at first.\nThen she had to start over, so it took a long time overall."), failures: ["format_mismatch"] },
    { name: "gsm8k format ok", request: req({ expectFormat: "gsm8k" }), answer: ans("40 + 20 = 60\n#### 1,260 minutes\n\n"), failures: [] },
    { name: "gsm8k format: not a whole number", request: req({ expectFormat: "gsm8k" }), answer: ans("So 12.5 each.\n#### 12.5"), failures: ["format_mismatch"] },
    { name: "gsm8k format: no marker", request: req({ expectFormat: "gsm8k" }), answer: ans("So the total is 60 minutes."), failures: ["format_mismatch"] },
    { name: "gsm8k format: 3.00 is whole", request: req({ expectFormat: "gsm8k" }), answer: ans("#### $3.00"), failures: [] },
    { name: "custom regexp format", request: req({ expectFormat: /DONE$/ }), answer: ans("work... DONE"), failures: [] },
    { name: "choice letter", request: req({ expectFormat: "choice-letter" }), answer: ans("The answer is B."), failures: [] },
    { name: "arithmetic error", request: req(), answer: ans("(12 / 20) x 100 = 55%. So 55."), options: { arithmetic: true }, failures: ["arithmetic_error"] },
    { name: "final answer not derived", request: req(), answer: ans("3 x 4 = 12 legs.\n#### 14"), options: { derivedFinal: true }, failures: ["final_not_derived"] },
    { name: "final answer derived", request: req(), answer: ans("3 x 4 = <<3*4=12>>12 legs.\n#### 12"), options: { derivedFinal: true }, failures: [] },
    { name: "final answer, no shown steps", request: req(), answer: ans("Three cats.\n#### 12"), options: { derivedFinal: true }, failures: [] },
    { name: "arithmetic ok", request: req(), answer: ans("2 x 60 = <<2*60=120>>120 GB, then 40 + 20 = 60.\n#### 60"), options: { arithmetic: true }, failures: [] },
  ];
  it.each(cases)("$name", ({ request, answer, options, failures }) => {
    const r = verifyAnswer({ request, answer }, options);
    const codes = r.failures.filter((f) => !f.startsWith("arithmetic:"));
    expect(codes.sort()).toEqual([...failures].sort());
    expect(r.ok).toBe(failures.length === 0);
    if (failures.length === 0) expect(r.score).toBe(1);
    else expect(r.score).toBeLessThan(1);
  });
});

describe("arithmetic", () => {
  it.each([
    ["2*60", 120],
    ["(12 / 20) x 100", 60],
    ["1,350 + 6 * 350", 3450],
    ["2^3 + 1", 9],
    ["-3 + 5", 2],
    ["$5 * 3", 15],
    ["2 +", null],
    ["abc", null],
  ])("evalArithmetic(%j) = %s", (src, v) => {
    expect(evalArithmetic(src)).toBe(v);
  });

  it("does not flag chained equations or thousands separators", () => {
    expect(checkArithmetic("22 + 4 x 12 = 22 + 48 = 70").errors).toEqual([]);
    expect(checkArithmetic("1,350 + 6 * 350 = 3,450").errors).toEqual([]);
    expect(checkArithmetic("80/120 = 0.67").errors).toEqual([]);
  });

  it("flags wrong results", () => {
    expect(checkArithmetic("6 + 3 = 10").errors).toHaveLength(1);
    expect(checkArithmetic("<<5*5=30>>30").errors).toHaveLength(1);
  });
});
