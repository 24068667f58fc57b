import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { UsageSchema } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import { fromOpenAIUsage, fromOpenAIUsageJson, openAIUsageToProto, toOpenAIUsage, type OpenAIUsageLike } from "./usage-openai.ts";
import { usage, type UsageCounts } from "./usage-types.ts";

const CASES: [OpenAIUsageLike, UsageCounts][] = [
  [{ prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 }, usage({ inputTokens: 100, outputTokens: 20 })],
  [
    { prompt_tokens: 2000, completion_tokens: 50, total_tokens: 2050, prompt_tokens_details: { cached_tokens: 1536 } },
    usage({ inputTokens: 464, cachedInputTokens: 1536, outputTokens: 50 }),
  ],
  [
    { prompt_tokens: 2000, completion_tokens: 300, prompt_tokens_details: { cached_tokens: 1536 }, completion_tokens_details: { reasoning_tokens: 200 } },
    usage({ inputTokens: 464, cachedInputTokens: 1536, outputTokens: 300, reasoningTokens: 200 }),
  ],
  [
    { prompt_tokens: 30, completion_tokens: 300, total_tokens: 330, completion_tokens_details: { reasoning_tokens: 256 } },
    usage({ inputTokens: 30, outputTokens: 300, reasoningTokens: 256 }),
  ],
  // More cached than prompt (a misreporting server): input never goes negative.
  [{ prompt_tokens: 10, completion_tokens: 1, total_tokens: 11, prompt_tokens_details: { cached_tokens: 50 } }, usage({ cachedInputTokens: 50, outputTokens: 1 })],
  // Cache writes reported by OpenAI-compatible servers (and by the gateway for Anthropic answers).
  [
    { prompt_tokens: 150, completion_tokens: 7, prompt_tokens_details: { cached_tokens: 100, cache_write_tokens: 30 } },
    usage({ inputTokens: 20, cachedInputTokens: 100, cacheWrite5mTokens: 30, outputTokens: 7 }),
  ],
  // Responses API shape, nulls and junk.
  [{ input_tokens: 10, output_tokens: 5, input_tokens_details: { cached_tokens: null } }, usage({ inputTokens: 10, outputTokens: 5 })],
  [{ input_tokens: 10, output_tokens: 5, input_tokens_details: { cached_tokens: 4 }, output_tokens_details: { reasoning_tokens: 2 } }, usage({ inputTokens: 6, cachedInputTokens: 4, outputTokens: 5, reasoningTokens: 2 })],
  [{ prompt_tokens: -3, completion_tokens: Number.NaN, prompt_tokens_details: null }, usage({})],
];

describe("fromOpenAIUsage (prompt_tokens includes cached reads and writes)", () => {
  it.each(CASES)("%j", (u, want) => expect(fromOpenAIUsage(u)).toEqual(want));
});

describe("fromOpenAIUsageJson (parsed JSON of unchecked shape)", () => {
  it.each(CASES)("reads %j like fromOpenAIUsage", (u, want) => expect(fromOpenAIUsageJson(JSON.parse(JSON.stringify(u)))).toEqual(want));
  it("reads a batch output line's usage", () => {
    const line: unknown = JSON.parse('{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":4}}');
    expect(fromOpenAIUsageJson(line)).toEqual(usage({ inputTokens: 6, cachedInputTokens: 4, outputTokens: 5 }));
  });
  it.each([null, 7, "usage", [1, 2], { prompt_tokens: "12", completion_tokens: true, prompt_tokens_details: [3] }])("treats %j as no usage", (junk) => {
    expect(fromOpenAIUsageJson(junk)).toEqual(usage({}));
  });
});

describe("toOpenAIUsage", () => {
  it("round-trips an OpenAI usage through the disjoint form", () => {
    const u = { prompt_tokens: 2000, completion_tokens: 50, total_tokens: 2050, prompt_tokens_details: { cached_tokens: 1536 }, completion_tokens_details: { reasoning_tokens: 10 } };
    expect(toOpenAIUsage(fromOpenAIUsage(u))).toEqual(u);
  });
  it("reports every cache write (5m and 1h) inside prompt_tokens and as cache_write_tokens", () => {
    expect(toOpenAIUsage(usage({ inputTokens: 20, cachedInputTokens: 100, cacheWrite5mTokens: 10, cacheWrite1hTokens: 20, outputTokens: 7 }))).toEqual({
      prompt_tokens: 150,
      completion_tokens: 7,
      total_tokens: 157,
      prompt_tokens_details: { cached_tokens: 100, cache_write_tokens: 30 },
    });
  });
});

describe("openAIUsageToProto", () => {
  it("is the proto form of fromOpenAIUsage", () => {
    const u = { prompt_tokens: 2000, completion_tokens: 300, total_tokens: 2300, prompt_tokens_details: { cached_tokens: 1536 }, completion_tokens_details: { reasoning_tokens: 200 } };
    expect(openAIUsageToProto(u)).toEqual(
      create(UsageSchema, { inputTokens: 464n, cachedInputTokens: 1536n, cacheWrite5mTokens: 0n, cacheWrite1hTokens: 0n, outputTokens: 300n, reasoningTokens: 200n, estimated: false }),
    );
  });
  it("reads a cached answer's usage with no details", () => {
    expect(openAIUsageToProto({ prompt_tokens: 12, completion_tokens: 3 })).toMatchObject({ inputTokens: 12n, cachedInputTokens: 0n, outputTokens: 3n, reasoningTokens: 0n, estimated: false });
  });
});
