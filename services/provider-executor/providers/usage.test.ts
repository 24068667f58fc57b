import { describe, expect, it } from "vitest";
import { ZERO_USAGE } from "./types.ts";
import { addUsage, usageFromAnthropic, usageFromOpenAI, usageToOpenAI } from "./usage.ts";

describe("usageFromOpenAI (prompt_tokens includes cached)", () => {
  it.each([
    [{ prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 }, { inputTokens: 100, cachedInputTokens: 0, outputTokens: 20, reasoningTokens: 0 }],
    [
      { prompt_tokens: 2000, completion_tokens: 50, total_tokens: 2050, prompt_tokens_details: { cached_tokens: 1536 } },
      { inputTokens: 464, cachedInputTokens: 1536, outputTokens: 50 },
    ],
    [
      { prompt_tokens: 30, completion_tokens: 300, total_tokens: 330, completion_tokens_details: { reasoning_tokens: 256 } },
      { inputTokens: 30, outputTokens: 300, reasoningTokens: 256 },
    ],
    [{ prompt_tokens: 10, completion_tokens: 1, total_tokens: 11, prompt_tokens_details: { cached_tokens: 50 } }, { inputTokens: 0, cachedInputTokens: 50 }],
  ])("%j", (u, want) => expect(usageFromOpenAI(u)).toMatchObject({ ...want, estimated: false }));
});

describe("usageFromAnthropic (input excludes cache reads and writes)", () => {
  it.each([
    [{ input_tokens: 5, output_tokens: 9, cache_read_input_tokens: 100, cache_creation_input_tokens: 40 }, { inputTokens: 5, cachedInputTokens: 100, cacheWrite5mTokens: 40, cacheWrite1hTokens: 0 }],
    [
      { input_tokens: 5, output_tokens: 9, cache_creation_input_tokens: 40, cache_creation: { ephemeral_5m_input_tokens: 10, ephemeral_1h_input_tokens: 30 } },
      { cacheWrite5mTokens: 10, cacheWrite1hTokens: 30 },
    ],
    [{ input_tokens: 5, output_tokens: 90, output_tokens_details: { thinking_tokens: 60 } }, { outputTokens: 90, reasoningTokens: 60 }],
  ])("%j", (u, want) => expect(usageFromAnthropic(u)).toMatchObject(want));
});

describe("usageToOpenAI / addUsage", () => {
  it("round-trips an OpenAI usage through the disjoint form", () => {
    const u = { prompt_tokens: 2000, completion_tokens: 50, total_tokens: 2050, prompt_tokens_details: { cached_tokens: 1536 }, completion_tokens_details: { reasoning_tokens: 10 } };
    expect(usageToOpenAI(usageFromOpenAI(u))).toEqual(u);
  });
  it("adds kind by kind and keeps the estimated flag", () => {
    const a = { ...ZERO_USAGE, inputTokens: 1, outputTokens: 2 };
    const b = { ...ZERO_USAGE, inputTokens: 3, cachedInputTokens: 4, estimated: true };
    expect(addUsage(a, b)).toEqual({ ...ZERO_USAGE, inputTokens: 4, cachedInputTokens: 4, outputTokens: 2, estimated: true });
  });
});
