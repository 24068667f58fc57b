import { create, equals, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { UsageSchema } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import { toProtoUsage, type UsageCounts } from "./usage-types.ts";

const counts: UsageCounts = { inputTokens: 12, cachedInputTokens: 3, cacheWrite5mTokens: 4, cacheWrite1hTokens: 5, outputTokens: 7, reasoningTokens: 2, estimated: true };

describe("toProtoUsage", () => {
  it("is the message create() makes, field for field and byte for byte", () => {
    const want = create(UsageSchema, { inputTokens: 12n, cachedInputTokens: 3n, cacheWrite5mTokens: 4n, cacheWrite1hTokens: 5n, outputTokens: 7n, reasoningTokens: 2n, estimated: true });
    const got = toProtoUsage(counts);
    expect(equals(UsageSchema, got, want)).toBe(true);
    expect(toBinary(UsageSchema, got)).toEqual(toBinary(UsageSchema, want));
  });

  it("sets every field of the schema (a field added to the proto fails here until the literal has it)", () => {
    const got = toProtoUsage(counts) as unknown as Record<string, unknown>;
    for (const f of UsageSchema.fields) expect(got[f.localName], f.localName).not.toBeUndefined();
    expect(Object.keys(got).sort()).toEqual(["$typeName", ...UsageSchema.fields.map((f) => f.localName)].sort());
  });
});
