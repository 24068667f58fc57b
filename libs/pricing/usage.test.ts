import { describe, expect, it } from "vitest";
import { estimateUsage, fromAnthropicUsage, fromOpenAIUsage } from "./usage.ts";
import { fromProtoUsage, toProtoUsage, usage } from "./usage-types.ts";

describe("fromOpenAIUsage", () => {
  it("removes cached tokens from input and keeps reasoning inside output", () => {
    expect(fromOpenAIUsage({
      prompt_tokens: 2000, completion_tokens: 300,
      prompt_tokens_details: { cached_tokens: 1536 }, completion_tokens_details: { reasoning_tokens: 200 },
    })).toEqual(usage({ inputTokens: 464, cachedInputTokens: 1536, outputTokens: 300, reasoningTokens: 200 }));
  });
  it("handles the Responses API shape and nulls", () => {
    expect(fromOpenAIUsage({ input_tokens: 10, output_tokens: 5, input_tokens_details: { cached_tokens: null } }))
      .toEqual(usage({ inputTokens: 10, outputTokens: 5 }));
  });
});

describe("fromAnthropicUsage", () => {
  it("input already excludes cache reads and writes; default TTL 5m", () => {
    expect(fromAnthropicUsage({ input_tokens: 12, output_tokens: 40, cache_read_input_tokens: 900, cache_creation_input_tokens: 300 }))
      .toEqual(usage({ inputTokens: 12, cachedInputTokens: 900, cacheWrite5mTokens: 300, outputTokens: 40 }));
  });
  it("splits cache writes by TTL without counting them twice", () => {
    expect(fromAnthropicUsage({
      input_tokens: 5, output_tokens: 1, cache_creation_input_tokens: 1000,
      cache_creation: { ephemeral_5m_input_tokens: 400, ephemeral_1h_input_tokens: 600 },
    })).toEqual(usage({ inputTokens: 5, cacheWrite5mTokens: 400, cacheWrite1hTokens: 600, outputTokens: 1 }));
  });
});

describe("estimateUsage", () => {
  it("counts with a tokenizer and marks the estimate", () => {
    const u = estimateUsage("Hello, how are you today?", "I am fine, thanks.");
    expect(u.estimated).toBe(true);
    expect(u.inputTokens).toBeGreaterThan(3);
    expect(u.outputTokens).toBeGreaterThan(3);
    expect(estimateUsage("", "").inputTokens).toBe(0);
  });
});

describe("proto round trip", () => {
  it("keeps every kind", () => {
    const u = usage({ inputTokens: 1, cachedInputTokens: 2, cacheWrite5mTokens: 3, cacheWrite1hTokens: 4, outputTokens: 5, reasoningTokens: 6, estimated: true });
    expect(fromProtoUsage(toProtoUsage(u))).toEqual(u);
  });
});
