import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { Tier, UsageSchema } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import { ProviderCallSchema, RequestCompletedSchema } from "#libs/gen/llmgw/events/v1/events_pb.ts";
import { encodeRequestCompleted, type CompletedFields } from "./request-completed-wire.ts";

const usage = (n: bigint, estimated = false) =>
  create(UsageSchema, { inputTokens: n, cachedInputTokens: n + 1n, cacheWrite5mTokens: 0n, cacheWrite1hTokens: 3n, outputTokens: n * 1000n, reasoningTokens: 7n, estimated });

function full(over: Partial<CompletedFields> = {}): CompletedFields {
  return {
    context: { requestId: "req-1", tenantId: "t", keyId: "k", traceId: "0af7651916cd43dd8448eb211c80319c" },
    receivedAt: "2026-12-01T01:00:00.000Z",
    completedAt: "2026-12-01T01:00:00.012Z",
    requestedModel: "gpt-4o-mini",
    tier: Tier.MEDIUM,
    category: "general",
    confidence: 0.8125,
    model: "gpt-4o-mini",
    provider: "openai",
    cacheOutcome: "miss",
    cascaded: true,
    escalated: true,
    httpStatus: 200,
    errorCode: "upstream_error",
    latencyMs: 12n,
    overheadMs: 0.345,
    stream: true,
    batch: true,
    baselineModel: "gpt-4o",
    calls: [
      { callId: "req-1:0", kind: "cascade_first", model: "a", provider: "p", status: "ok", errorCode: "", latencyMs: 3n, usage: usage(10n), startedAt: "2026-12-01T01:00:00.000Z" },
      { callId: "req-1:1", kind: "escalation", model: "b", provider: "q", status: "error", errorCode: "timeout", latencyMs: 0n, usage: undefined, startedAt: "2026-12-01T01:00:00.000Z" },
    ],
    answerUsage: usage(5n, true),
    budgetReserved: true,
    policyVersion: 42n,
    policyCanary: true,
    ...over,
  };
}

/** What the edge wrote before: a message made by create() and encoded by toBinary(). */
function reference(f: CompletedFields): Uint8Array {
  return toBinary(
    RequestCompletedSchema,
    create(RequestCompletedSchema, { ...f, calls: f.calls.map((c) => create(ProviderCallSchema, c)) }),
  );
}

describe("encodeRequestCompleted", () => {
  const cases: [string, CompletedFields][] = [
    ["every field set", full()],
    [
      "zero values left out (failure before any call)",
      full({ context: {}, tier: Tier.UNSPECIFIED, confidence: 0, model: "", provider: "", cascaded: false, escalated: false, httpStatus: 0, latencyMs: 0n, overheadMs: 0, stream: false, batch: false, calls: [], answerUsage: undefined, budgetReserved: false, policyVersion: 0n, policyCanary: false }),
    ],
    ["an empty usage is still written", full({ answerUsage: create(UsageSchema) })],
    ["negative and large numbers", full({ httpStatus: -1, latencyMs: -5n, policyVersion: 2n ** 62n, overheadMs: -0, confidence: Number.NaN })],
    ["int64 beyond 2^53", full({ latencyMs: 2n ** 53n + 1n, answerUsage: usage(2n ** 50n) })],
    ["non-ASCII and long strings (lengths over one byte)", full({ category: "é€😀".repeat(30), errorCode: "x".repeat(300), model: "m".repeat(42), provider: "ü".repeat(42) })],
    [
      "many calls (a nested length over 127 and the scratch buffer growing)",
      full({ calls: Array.from({ length: 60 }, (_, i) => ({ callId: `req-1:${i}`, kind: "retry", model: "model-".repeat(20), provider: "p", status: "ok", errorCode: "", latencyMs: BigInt(i), usage: usage(BigInt(i)), startedAt: "2026-12-01T01:00:00.000Z" })) }),
    ],
  ];
  for (const [name, f] of cases) {
    it(`writes toBinary's bytes: ${name}`, () => {
      const bytes = encodeRequestCompleted(f);
      expect(Buffer.from(bytes).toString("hex")).toBe(Buffer.from(reference(f)).toString("hex"));
    });
  }

  it("returns its own copy (the scratch buffer is reused)", () => {
    const a = encodeRequestCompleted(full());
    const copy = Uint8Array.from(a);
    encodeRequestCompleted(full({ model: "other", calls: [] }));
    expect(a).toEqual(copy);
    expect(fromBinary(RequestCompletedSchema, a).model).toBe("gpt-4o-mini");
  });

  it("covers every field of the schema (a field added to the proto must be added to the encoder)", () => {
    // Each field set to a non-zero value must come back from the bytes.
    const decoded = fromBinary(RequestCompletedSchema, encodeRequestCompleted(full()));
    for (const field of RequestCompletedSchema.fields) {
      const v: unknown = (decoded as unknown as Record<string, unknown>)[field.localName];
      const empty = v === undefined || v === "" || v === 0 || v === 0n || v === false || (Array.isArray(v) && v.length === 0);
      expect(empty, `field ${field.name} is not written by encodeRequestCompleted`).toBe(false);
    }
    for (const schema of [ProviderCallSchema, UsageSchema]) {
      const known = schema === UsageSchema ? 7 : 9;
      expect(schema.fields.length, `${schema.typeName} has fields the encoder does not write`).toBe(known);
    }
  });
});
