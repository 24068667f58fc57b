// One RequestCompleted per succeeded batch line. Sent lines carry one call of kind "batch" (the
// ledger prices it at the model's batch price and reports the discount as batch savings), lines run
// live (no provider batch API) one of kind "primary" at the live price; lines
// answered from the exact cache carry no call (0 provider cost, cache savings). The request id and
// bus message id are the batch id + line index: a republish after a restart or redelivery is
// deduplicated by the bus and by the ledger (one row per request id).
import { create, toBinary } from "@bufbuild/protobuf";
import type { Tier } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import { RequestCompletedSchema } from "#libs/gen/llmgw/events/v1/events_pb.ts";
import { toProtoUsage, type UsageCounts } from "#libs/pricing/usage-types.ts";

export function batchLineRequestId(batchId: string, index: number): string {
  return `${batchId}:${index}`;
}

export interface BatchLineFacts {
  batchId: string;
  index: number;
  tenantId: string;
  keyId: string;
  createdAt: Date;
  requestedModel: string;
  baselineModel: string;
  model: string;
  provider: string;
  tier: Tier;
  category: string;
  cached: boolean;
  /** Run as an ordinary call (the provider has no batch API): live price, no batch discount. */
  live?: boolean;
  usage: UsageCounts | null;
}

export function batchLineCompletedBytes(f: BatchLineFacts, completedAt: Date): { requestId: string; data: Uint8Array } {
  const requestId = batchLineRequestId(f.batchId, f.index);
  const usage = f.usage ? toProtoUsage(f.usage) : undefined;
  const msg = create(RequestCompletedSchema, {
    context: { requestId, tenantId: f.tenantId, keyId: f.keyId, traceId: "" },
    receivedAt: f.createdAt.toISOString(),
    completedAt: completedAt.toISOString(),
    requestedModel: f.requestedModel,
    tier: f.tier,
    category: f.category,
    confidence: 0,
    model: f.model,
    provider: f.provider,
    cacheOutcome: f.cached ? "hit_exact" : "miss",
    cascaded: false,
    escalated: false,
    httpStatus: 200,
    errorCode: "",
    latencyMs: BigInt(Math.max(0, completedAt.getTime() - f.createdAt.getTime())),
    overheadMs: 0,
    stream: false,
    // The ledger prices a batch request at the batch price; a live-run line pays the live price.
    batch: f.live !== true,
    baselineModel: f.baselineModel,
    // The batch's reservation is settled once, by the batch worker, not per line.
    budgetReserved: false,
    calls: f.cached
      ? []
      : [{ callId: `${requestId}:0`, kind: f.live ? "primary" : "batch", model: f.model, provider: f.provider, status: "ok", errorCode: "", latencyMs: 0n, usage, startedAt: f.createdAt.toISOString() }],
    answerUsage: usage,
  });
  return { requestId, data: toBinary(RequestCompletedSchema, msg) };
}
