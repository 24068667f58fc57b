// One RequestCompleted per batch output line, flagged batch with one call of kind "batch", so the
// ledger prices it with the model's batch discount. Request ids derive from batch id + custom_id:
// republishing (a second fetch, a restart of accounting) is deduplicated by the bus and the ledger.
import { create, toBinary } from "@bufbuild/protobuf";
import { Tier } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import { RequestCompletedSchema } from "#libs/gen/llmgw/events/v1/events_pb.ts";
import { toProtoUsage } from "#libs/pricing/usage-types.ts";
import type { BatchOutputLine } from "./batch-input.ts";
import type { StoredBatch } from "./batch-store.ts";

export function batchRequestId(batchId: string, customId: string): string {
  return `${batchId}:${customId}`;
}

export function batchLineCompletedBytes(b: StoredBatch, line: BatchOutputLine, baselineModel: string, completedAt: Date): { requestId: string; data: Uint8Array } {
  const requestId = batchRequestId(b.id, line.customId);
  const usage = line.usage ? toProtoUsage(line.usage) : undefined;
  const msg = create(RequestCompletedSchema, {
    context: { requestId, tenantId: b.tenantId, keyId: b.keyId, traceId: "" },
    receivedAt: b.createdAt.toISOString(),
    completedAt: completedAt.toISOString(),
    requestedModel: b.requestedModel,
    tier: Tier.UNSPECIFIED,
    category: "",
    confidence: 0,
    model: b.model,
    provider: b.provider,
    cacheOutcome: "bypass",
    cascaded: false,
    escalated: false,
    httpStatus: line.status,
    errorCode: line.errorCode,
    latencyMs: BigInt(Math.max(0, completedAt.getTime() - b.createdAt.getTime())),
    overheadMs: 0,
    stream: false,
    batch: true,
    baselineModel,
    calls: [
      {
        callId: `${requestId}:0`,
        kind: "batch",
        model: b.model,
        provider: b.provider,
        status: line.status === 200 ? "ok" : "error",
        errorCode: line.errorCode,
        latencyMs: 0n,
        usage,
        startedAt: b.createdAt.toISOString(),
      },
    ],
    answerUsage: usage,
  });
  return { requestId, data: toBinary(RequestCompletedSchema, msg) };
}
