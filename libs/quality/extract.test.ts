import { describe, expect, it } from "vitest";
import {
  canonicalJson,
  extractChoiceLetter,
  extractCodeBlocks,
  extractFinalNumber,
  extractJson,
  jsonLeaves,
  normaliseCode,
  normaliseText,
  numbersAgree,
  parseNumber,
  tokenF1,
} from "./extract.ts";

describe("parseNumber", () => {
  it.each([
    ["42", 42],
    ["1,234.50", 1234.5],
    ["$3.00", 3],
    ["$ 7", 7],
    ["-7", -7],
    ["12%", 12],
    ["2/3", 2 / 3],
    ["-1/4", -0.25],
    [".5", 0.5],
    ["1/0", undefined],
    ["abc", undefined],
  ])("parseNumber(%j) = %s", (text, v) => {
    expect(parseNumber(text)).toBe(v);
  });
});

describe("extractFinalNumber", () => {
  const cases: { name: string; text: string; value: number | undefined; source?: string }[] = [
    { name: "GSM8K marker", text: "40 + 20 = <<40+20=60>>60 minutes.\n#### 60 minutes", value: 60, source: "hash" },
    { name: "marker with $ and thousands", text: "So $1,260 in all.\n#### $1,260", value: 1260, source: "hash" },
    { name: "negative marker", text: "She is behind.\n#### -15", value: -15, source: "hash" },
    { name: "marker wins over a later note", text: "#### 8\n\n(Note: 3 of them were red.)", value: 8, source: "hash" },
    { name: "last of two markers", text: "#### 5\nWait, recompute.\n#### 7", value: 7, source: "hash" },
    { name: "boxed", text: "Therefore $x = \\boxed{42}$ and 3 checks.", value: 42, source: "boxed" },
    { name: "boxed fraction", text: "\\boxed{\\frac{3}{4}}", value: 0.75, source: "boxed" },
    { name: "boxed money", text: "\\boxed{\\$1,200}", value: 1200, source: "boxed" },
    { name: "the answer is", text: "The answer is 18. Check: 3 * 6.", value: 18, source: "answer" },
    { name: "final answer colon bold", text: "Final answer: **2,500** dollars (after 3 weeks)", value: 2500, source: "answer" },
    { name: "last number", text: "He covers 180 + 15 + 120 = <<180+15+120=315>>315 miles.", value: 315, source: "last" },
    { name: "last number with decimals", text: "a 36-minute call would cost $8.00.", value: 8, source: "last" },
    { name: "range tail is not negative", text: "between 3-5 apples", value: 5, source: "last" },
    { name: "LaTeX escaped dollar", text: "so it costs \\$12.50 in total", value: 12.5, source: "last" },
    { name: "annotation alone is not read", text: "<<2*3=6>> six", value: undefined },
    { name: "no number", text: "I do not know.", value: undefined },
  ];
  it.each(cases)("$name", ({ text, value, source }) => {
    const r = extractFinalNumber(text);
    if (value === undefined) expect(r).toBeUndefined();
    else {
      expect(r?.value).toBeCloseTo(value, 9);
      expect(r?.source).toBe(source);
    }
  });

  it("compares numbers with a relative tolerance", () => {
    expect(numbersAgree(3, 3.0000000001)).toBe(true);
    expect(numbersAgree(0.5, 1 / 2)).toBe(true);
    expect(numbersAgree(160, 60)).toBe(false);
    expect(numbersAgree(1_000_000, 1_000_001)).toBe(false);
  });
});

describe("extractChoiceLetter", () => {
  const cases: { name: string; text: string; letter: string | undefined; source?: string }[] = [
    { name: "the answer is (B)", text: "Reasoning... The answer is (B).", letter: "B", source: "marked" },
    { name: "Answer: C", text: "Answer: C", letter: "C", source: "marked" },
    { name: "correct option is D", text: "So the correct option is D, since...", letter: "D", source: "marked" },
    { name: "bold answer", text: "After elimination: **(A)**", letter: "A", source: "bold" },
    { name: "leading letter", text: "B) Paris, because it is the capital.", letter: "B", source: "leading" },
    { name: "just a letter", text: " C ", letter: "C", source: "leading" },
    { name: "last marked letter wins", text: "The answer is A? No: the answer is C.", letter: "C", source: "marked" },
    { name: "article a is not option A", text: "The answer is a number between 1 and 10.", letter: undefined },
    { name: "E outside A-D", text: "The answer is E.", letter: undefined },
    { name: "prose starting with A word", text: "A cat is a mammal.", letter: undefined },
  ];
  it.each(cases)("$name", ({ text, letter, source }) => {
    const r = extractChoiceLetter(text);
    expect(r?.letter).toBe(letter);
    if (source) expect(r?.source).toBe(source);
  });

  it("takes other letter sets", () => {
    expect(extractChoiceLetter("The answer is E.", "ABCDE")?.letter).toBe("E");
  });
});

describe("JSON", () => {
  it.each([
    ["whole object", '{"a": 1, "b": [1, 2]}', { a: 1, b: [1, 2] }],
    ["fenced", 'Here:\n```json\n{"a": 1}\n```\nDone.', { a: 1 }],
    ["embedded span", 'The result is {"ok": true} as requested.', { ok: true }],
    ["array", "[1, 2, 3]", [1, 2, 3]],
    ["bare number is not JSON", "42", undefined],
    ["prose", "no json here", undefined],
    ["broken", '{"a": 1', undefined],
  ])("extractJson: %s", (_n, text, value) => {
    const r = extractJson(text);
    if (value === undefined) expect(r).toBeUndefined();
    else expect(r?.value).toEqual(value);
  });

  it("canonical JSON ignores key order at every depth, not array order", () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: 3 } })).toBe(canonicalJson({ a: { c: 3, d: 2 }, b: 1 }));
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
  });

  it("lists leaves", () => {
    expect(jsonLeaves({ b: [1, { c: null }], a: "x" })).toEqual(['$.a="x"', "$.b[0]=1", "$.b[1].c=null"]);
  });
});

describe("code", () => {
  it("extracts fenced blocks, not an unclosed one", () => {
    const blocks = extractCodeBlocks("a\n```python\nprint(1)\n```\nb\n```\nx = 2\n```\n```js\nopen(");
    expect(blocks).toEqual([
      { lang: "python", code: "print(1)\n" },
      { lang: "", code: "x = 2\n" },
    ]);
  });

  it.each([
    ["indentation and blank lines", "def f():\n    return 1\n\n", "def f():\n  return 1", true],
    ["tabs and CRLF", "a =\t1\r\nb = 2", "a = 1\nb = 2", true],
    ["different code", "return 1", "return 2", false],
  ])("normaliseCode: %s", (_n, a, b, same) => {
    expect(normaliseCode(a) === normaliseCode(b)).toBe(same);
  });
});

describe("text", () => {
  it.each([
    ["The Capital of France!", "capital of france"],
    ["  Paris,   the city. ", "paris city"],
    ["ﬁne", "fine"],
  ])("normaliseText(%j) = %j", (text, out) => {
    expect(normaliseText(text)).toBe(out);
  });

  it.each([
    ["Paris", "paris.", 1],
    ["the capital is Paris", "Paris is the capital", 1],
    ["Paris", "London", 0],
    ["", "", 1],
    ["w x y z", "w x", 2 / 3],
    ["a b c d", "a b", 0.5], // "a" is an article: dropped
  ])("tokenF1(%j, %j) = %s", (a, b, f1) => {
    expect(tokenF1(a, b)).toBeCloseTo(f1, 9);
  });
});
