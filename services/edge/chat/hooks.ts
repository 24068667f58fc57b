// After-answer hooks: everything the client does not wait for. A new consumer of the answer is a
// new hook here, not an edit to the pipeline. Hooks never throw into the request.
import { create, toBinary } from "@bufbuild/protobuf";
import { CacheControl } from "#libs/gen/llmgw/cache/v1/cache_pb.ts";
import { ShadowTestRequestedSchema } from "#libs/gen/llmgw/events/v1/events_pb.ts";
import { subjects } from "#libs/bus/subjects.ts";
import { bindCounter, ChildCache, type BoundCounter } from "#libs/metrics/bound.ts";
import { openAIUsageToProto } from "#libs/pricing/usage-openai.ts";
import { tierName } from "#libs/rpc/tier.ts";
import { requestCompletedBytes } from "../accounting.ts";
import type { EdgeDeps } from "../deps.ts";
import type { EdgeMetrics } from "../metrics.ts";
import type { EventOutbox } from "../outbox.ts";
import type { ChatOutcome, ChatRecord } from "./record.ts";
import { observeHook } from "./observe-hook.ts";

export type AfterAnswerHook = (rec: ChatRecord, out: ChatOutcome) => void;

export interface HookDeps {
  deps: EdgeDeps;
  outbox: EventOutbox;
  metrics: EdgeMetrics;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const errMsg = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** The hooks every chat request runs, in order. */
export function chatHooks(h: HookDeps): AfterAnswerHook[] {
  return [countMetrics(h), observeHook(h.deps.registry), storeInCache(h), publishCompleted(h), requestShadowTests(h), auditCacheHits(h)];
}

/** The counters of one (status, model, tier, cache outcome), bound once. */
interface CountChildren {
  requests: BoundCounter;
  input: BoundCounter;
  output: BoundCounter;
  cost: BoundCounter;
}

function countMetrics({ metrics }: HookDeps): AfterAnswerHook {
  const children = new ChildCache<CountChildren>();
  const bind = (status: string, model: string, tier: string, cache: string): CountChildren => ({
    requests: bindCounter(metrics.requests, { status, model, tier, cache }),
    input: bindCounter(metrics.tokens, { model, kind: "input" }),
    output: bindCounter(metrics.tokens, { model, kind: "output" }),
    cost: bindCounter(metrics.costUsd, { model }),
  });
  // The previous request's labels and children: traffic repeats them, and comparing four values is
  // cheaper than building and hashing the key string (a new string per request).
  let last: { status: number; model: string; tier: string; cache: string; c: CountChildren } | undefined;
  return (rec, out) => {
    const tier = tierName(rec.route?.tier || rec.cls.tier);
    let c: CountChildren;
    if (last !== undefined && last.status === out.status && last.model === out.model && last.tier === tier && last.cache === rec.cacheOutcome) {
      c = last.c;
    } else {
      const status = String(out.status);
      const key = `${status}\u0000${out.model}\u0000${tier}\u0000${rec.cacheOutcome}`;
      c = children.get(key) ?? children.set(key, bind(status, out.model, tier, rec.cacheOutcome));
      last = { status: out.status, model: out.model, tier, cache: rec.cacheOutcome, c };
    }
    c.requests.inc();
    if (out.runs.length === 0) return;
    // sumUsage's two counts, without building the summed Usage message.
    let input = 0;
    let output = 0;
    for (const r of out.runs) {
      for (const a of r.attempts) {
        if (!a.usage) continue;
        input += Number(a.usage.inputTokens);
        output += Number(a.usage.outputTokens);
      }
    }
    c.input.inc(input);
    c.output.inc(output);
    if (out.costUsd) c.cost.inc(Number(out.costUsd));
  };
}

/** A fresh, complete answer is kept for the next identical (or similar) question. */
function storeInCache({ deps, metrics }: HookDeps): AfterAnswerHook {
  return (rec, out) => {
    const control = rec.call.cacheControl;
    if (out.status !== 200 || !out.completion || rec.cacheOutcome.startsWith("hit") || control === CacheControl.OFF || control === CacheControl.NO_STORE) return;
    if (out.completion.choices[0]?.finish_reason !== "stop") return;
    deps.clients.cache.store({ key: rec.cacheKey, completionJson: out.completionJson ? decoder.decode(out.completionJson) : JSON.stringify(out.completion), model: out.model }).catch((e: unknown) => {
      metrics.degraded.inc({ dependency: "cache" });
      deps.logger.warn({ err: errMsg(e), requestId: rec.call.requestId }, "cache store failed");
    });
  };
}

/** RequestCompleted: the ledger records it and settles (or releases) the budget reservation. */
function publishCompleted({ deps, outbox }: HookDeps): AfterAnswerHook {
  const subject = subjects(deps.events.names).requestCompleted;
  return (rec, out) => {
    const hit = rec.cacheOutcome.startsWith("hit");
    const cachedUsage = hit ? out.completion?.usage : undefined;
    const bytes = requestCompletedBytes({
      context: rec.ctx,
      receivedAt: rec.call.receivedAt,
      requestedModel: rec.call.body.model,
      tier: rec.route?.tier || rec.cls.tier,
      category: rec.cls.category,
      confidence: rec.cls.confidence,
      model: out.model,
      provider: out.provider,
      cacheOutcome: rec.cacheOutcome,
      cascaded: (rec.route?.cascade ?? false) && !out.stream,
      escalated: out.escalated,
      httpStatus: out.status,
      errorCode: out.errorCode,
      latencyMs: out.totalMs,
      overheadMs: out.overheadMs,
      stream: out.stream,
      // The router names the baseline; a cache hit never reached it, so the configured reference applies.
      baselineModel: rec.alias ? rec.route?.referenceModel || deps.config.routing.reference_model : rec.call.body.model,
      runs: out.runs,
      // The answer's own usage prices the baseline: what this answer would have cost on the reference model.
      ...(hit ? (cachedUsage ? { answerUsage: openAIUsageToProto(cachedUsage) } : {}) : out.answerUsage ? { answerUsage: out.answerUsage } : {}),
      budgetReserved: rec.reserved,
      policyVersion: rec.route?.policyVersion ?? 0n,
      policyCanary: rec.route?.policyCanary ?? false,
    });
    outbox.publish(subject, bytes, rec.call.requestId);
  };
}

/** The router sampled this request: replay it on its cheaper candidates, after the answer. */
function requestShadowTests({ deps, outbox }: HookDeps): AfterAnswerHook {
  const subject = subjects(deps.events.names).shadowRequested;
  return (rec, out) => {
    const candidates = rec.route?.shadowCandidates ?? [];
    if (out.status !== 200 || !out.completion || candidates.length === 0) return;
    const requestJson = encoder.encode(JSON.stringify(rec.call.body));
    const servedCompletionJson = encoder.encode(JSON.stringify(out.completion));
    for (const c of candidates) {
      if (c.model === out.model) continue;
      const msg = create(ShadowTestRequestedSchema, {
        context: rec.ctx,
        requestJson,
        servedModel: out.model,
        servedCompletionJson,
        candidateModel: c.model,
        category: rec.cls.category,
        tier: rec.route?.tier || rec.cls.tier,
        upward: rec.route?.shadowUpward ?? false,
        policyVersion: rec.route?.policyVersion ?? 0n,
        policyCanary: rec.route?.policyCanary ?? false,
      });
      const id = candidates.length === 1 ? `shadow:${rec.call.requestId}` : `shadow:${rec.call.requestId}:${c.model}`;
      outbox.publish(subject, toBinary(ShadowTestRequestedSchema, msg), id);
    }
  };
}

/**
 * A sampled semantic cache hit: the evaluator replays the request on the model that wrote the cached
 * answer and judges whether that answer fits this question (the cache's measured wrong-hit rate).
 */
function auditCacheHits({ deps, outbox }: HookDeps): AfterAnswerHook {
  const subject = subjects(deps.events.names).shadowRequested;
  const shadow = deps.config.routing.shadow;
  const random = deps.random ?? Math.random;
  return (rec, out) => {
    const rate = shadow.cache_audit_rate;
    if (rate <= 0 || rec.cacheOutcome !== "hit_semantic" || out.status !== 200 || !out.completion || !rec.lookup) return;
    if (shadow.exclude_tenants.includes(rec.call.auth.tenantId) || random() >= rate) return;
    const model = rec.lookup.model || out.model;
    const msg = create(ShadowTestRequestedSchema, {
      context: rec.ctx,
      requestJson: encoder.encode(JSON.stringify(rec.call.body)),
      servedModel: model,
      servedCompletionJson: encoder.encode(rec.lookup.completionJson),
      candidateModel: model,
      // The cache's category (its thresholds' and the wrong-hit bound's), not the classifier's task.
      category: rec.lookup.category || rec.cls.category,
      tier: rec.cls.tier,
      cacheAudit: true,
      cacheSimilarity: rec.lookup.similarity,
      cacheQuestion: rec.lookup.matchedQuestion,
      cacheEntry: rec.lookup.entryId,
    });
    outbox.publish(subject, toBinary(ShadowTestRequestedSchema, msg), `cache-audit:${rec.call.requestId}`);
  };
}
