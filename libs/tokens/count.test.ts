import { describe, expect, it } from "vitest";
import { countPromptTokens, countTokens } from "./count.ts";

describe("token counting", () => {
  it("counts with the o200k tokenizer", () => {
    expect(countTokens("hello world")).toBe(2);
    expect(countTokens("")).toBe(0);
  });

  it("bounds short prompts by bytes, never below the exact count", () => {
    const texts = ["Explain the theory of relativity in simple words.", "Sure."];
    const est = countPromptTokens(texts);
    expect(est.exact).toBe(false);
    const exact = texts.reduce((n, t) => n + countTokens(t), 0);
    expect(est.tokens).toBeGreaterThanOrEqual(exact);
  });

  it("tokenizes long prompts exactly", () => {
    const long = "The quick brown fox jumps over the lazy dog. ".repeat(1000);
    const est = countPromptTokens([long]);
    expect(est.exact).toBe(true);
    expect(est.tokens).toBe(countTokens(long) + 7);
  });
});
