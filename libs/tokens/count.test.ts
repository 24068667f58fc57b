import { describe, expect, it } from "vitest";
import { countPromptTokens, countTexts, countTokens, EXACT_CHARS } from "./count.ts";

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

  it("tokenizes prompts over the byte bound exactly, within the character budget", () => {
    const long = "The quick brown fox jumps over the lazy dog. ".repeat(300);
    const est = countPromptTokens([long], 4_096);
    expect(est.exact).toBe(true);
    expect(est.tokens).toBe(countTokens(long) + 7);
    expect(countPromptTokens([long.repeat(4)], 4_096).exact).toBe(false);
  });

  it("counts exactly within the character budget, estimates past it (never below 0.25 token per byte)", () => {
    const prose = "The quick brown fox jumps over the lazy dog. ";
    const small = countTexts([prose.repeat(100), prose.repeat(100)], EXACT_CHARS);
    expect(small).toEqual({ tokens: 2 * countTokens(prose.repeat(100)), exact: true });
    const big = prose.repeat(20_000);
    const est = countTexts([big], 10_000);
    expect(est.exact).toBe(false);
    const rate = Math.max(0.25, countTokens(prose.repeat(200)) / Buffer.byteLength(prose.repeat(200)));
    expect(est.tokens).toBeGreaterThan(big.length * rate * 0.95);
    expect(est.tokens).toBeLessThan(big.length * rate * 1.05);
    // A cheap sample (spaces) does not make expensive text that follows cheap.
    const tricky = countTexts([" ".repeat(10_000), "!#%&".repeat(50_000)], 10_000);
    expect(tricky.tokens).toBeGreaterThanOrEqual(200_000 * 0.25);
  });

  it("counts a 2 MB prompt of one character by estimate, and special tokens' text without throwing", () => {
    const est = countPromptTokens(["z".repeat(2_000_000)]);
    expect(est.exact).toBe(false);
    expect(est.tokens).toBeGreaterThan(500_000);
    expect(countTokens("<|endoftext|>".repeat(2_000))).toBeGreaterThan(2_000);
  });
});
