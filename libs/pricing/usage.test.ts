import { describe, expect, it } from "vitest";
import { estimateUsage } from "./usage.ts";
import { addUsage, fromProtoUsage, toProtoUsage, usage, ZERO_USAGE } from "./usage-types.ts";

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

describe("addUsage", () => {
  it("adds kind by kind and keeps the estimated flag", () => {
    const a = { ...ZERO_USAGE, inputTokens: 1, outputTokens: 2 };
    const b = { ...ZERO_USAGE, inputTokens: 3, cachedInputTokens: 4, estimated: true };
    expect(addUsage(a, b)).toEqual({ ...ZERO_USAGE, inputTokens: 4, cachedInputTokens: 4, outputTokens: 2, estimated: true });
  });
});
