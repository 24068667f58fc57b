import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { UsageSchema } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import { AttemptSchema } from "#libs/gen/llmgw/executor/v1/executor_pb.ts";
import { sumUsage } from "./accounting.ts";

describe("sumUsage", () => {
  it("adds every kind over the attempts that have usage and keeps the estimated flag", () => {
    const attempts = [
      create(AttemptSchema, { model: "a", usage: { inputTokens: 10n, cachedInputTokens: 5n, outputTokens: 2n } }),
      create(AttemptSchema, { model: "b" }),
      create(AttemptSchema, { model: "c", usage: { inputTokens: 1n, cacheWrite5mTokens: 3n, cacheWrite1hTokens: 4n, outputTokens: 7n, reasoningTokens: 6n, estimated: true } }),
    ];
    expect(sumUsage(attempts)).toEqual(
      create(UsageSchema, { inputTokens: 11n, cachedInputTokens: 5n, cacheWrite5mTokens: 3n, cacheWrite1hTokens: 4n, outputTokens: 9n, reasoningTokens: 6n, estimated: true }),
    );
  });
  it("is zero for no usage", () => {
    expect(sumUsage([])).toEqual(create(UsageSchema));
  });
});
