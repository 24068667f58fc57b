// After the answer: what it cost, the event the ledger records, and the budget settlement.
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Decimal } from "decimal.js";
import type { RequestContextSchema, Tier, Usage } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import type { Attempt } from "#libs/gen/llmgw/executor/v1/executor_pb.ts";
import { isExactPico, picoToUsd, usdToPico } from "#libs/pricing/money.ts";
import { addUsage, fromProtoUsage, toProtoUsage, ZERO_USAGE } from "#libs/pricing/usage-types.ts";
import type { Pricing } from "./deps.ts";
import type { RunResult } from "./execution.ts";
import { encodeRequestCompleted, type CallFields, type CompletedFields } from "./request-completed-wire.ts";


/** An exact USD amount; toFixed() writes it as Decimal#toFixed() does. */
export interface ExactUsd {
  toFixed(): string;
}

export interface CallCost {
  usd: ExactUsd;
  unpriced: boolean;
}

/** An amount already written out: what the integer path gives, with no Decimal to build. */
class UsdText implements ExactUsd {
  constructor(private readonly text: string) {}
  toFixed(): string {
    return this.text;
  }
}

/**
 * What the request's calls cost. Summed as pico-USD integers (libs/pricing/money.ts), which is exact
 * for these amounts and builds no Decimal; decimal.js only when an amount falls outside that range.
 */
export function attemptsCost(pricing: Pricing, attempts: Attempt[], at: Date): CallCost {
  let pico = 0;
  let unpriced = false;
  for (const a of attempts) {
    if (!a.usage || a.status.startsWith("skipped")) continue;
    const c = pricing.cost(a.model, a.usage, at);
    const n = usdToPico(c.usd);
    if (n === undefined) return attemptsCostDecimal(pricing, attempts, at);
    pico += n;
    if (!isExactPico(pico)) return attemptsCostDecimal(pricing, attempts, at);
    unpriced ||= c.unpriced;
  }
  return { usd: new UsdText(picoToUsd(pico)), unpriced };
}

function attemptsCostDecimal(pricing: Pricing, attempts: Attempt[], at: Date): CallCost {
  let usd = new Decimal(0);
  let unpriced = false;
  for (const a of attempts) {
    if (!a.usage || a.status.startsWith("skipped")) continue;
    const c = pricing.cost(a.model, a.usage, at);
    usd = usd.plus(c.usd);
    unpriced ||= c.unpriced;
  }
  return { usd, unpriced };
}

/** Every attempt's usage added up (attempts without usage count as zero). */
export function sumUsage(attempts: Attempt[]): Usage {
  return toProtoUsage(attempts.reduce((sum, a) => (a.usage ? addUsage(sum, fromProtoUsage(a.usage)) : sum), ZERO_USAGE));
}

/**
 * What the edge knows of a finished request: RequestCompleted's fields (request-completed-wire.ts) with
 * its clocks, runs and the policy as the pipeline holds them; requestCompletedBytes derives the rest.
 */
export type CompletedInit = Omit<CompletedFields, "receivedAt" | "completedAt" | "latencyMs" | "batch" | "calls" | "answerUsage" | "cacheOutcome" | "policyVersion" | "policyCanary"> & {
  receivedAt: Date;
  latencyMs: number;
  cacheOutcome: "hit_exact" | "hit_semantic" | "miss" | "bypass";
  runs: RunResult[];
  answerUsage?: Usage;
  /** The routing policy version that decided, and whether it was the canary arm. */
  policyVersion?: bigint;
  policyCanary?: boolean;
};

export function requestCompletedBytes(e: CompletedInit): Uint8Array {
  const requestId = e.context.requestId ?? "";
  const receivedAt = e.receivedAt.toISOString();
  return encodeRequestCompleted({
    context: e.context,
    receivedAt,
    completedAt: new Date().toISOString(),
    requestedModel: e.requestedModel,
    tier: e.tier,
    category: e.category,
    confidence: e.confidence,
    model: e.model,
    provider: e.provider,
    cacheOutcome: e.cacheOutcome,
    cascaded: e.cascaded,
    escalated: e.escalated,
    httpStatus: e.httpStatus,
    errorCode: e.errorCode,
    latencyMs: BigInt(Math.round(e.latencyMs)),
    overheadMs: e.overheadMs,
    stream: e.stream,
    batch: false,
    baselineModel: e.baselineModel,
    calls: callFields(requestId, e.runs, receivedAt),
    answerUsage: e.answerUsage,
    budgetReserved: e.budgetReserved,
    policyVersion: e.policyVersion ?? 0n,
    policyCanary: e.policyCanary ?? false,
  });
}

/** Provider calls of a request, in order, as the ledger records them (skipped candidates are not calls). */
function callFields(requestId: string, runs: RunResult[], startedAt: string): CallFields[] {
  const calls: CallFields[] = [];
  for (const run of runs) {
    const attempts = run.attempts;
    for (let i = 0; i < attempts.length; i++) {
      const a = attempts[i] as Attempt;
      if (a.status.startsWith("skipped")) continue;
      const kind = i === 0 ? run.purpose : attempts[i - 1]?.model === a.model ? "retry" : "fallback";
      calls.push({
        callId: `${requestId}:${calls.length}`,
        kind,
        model: a.model,
        provider: a.provider,
        status: a.status === "ok" ? "ok" : "error",
        errorCode: a.errorCode,
        latencyMs: a.latencyMs,
        usage: a.usage,
        startedAt,
      });
    }
  }
  return calls;
}
