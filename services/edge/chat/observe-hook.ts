// After-answer observations beyond the edge's request counters: the OTel GenAI server metrics
// (duration, time to first token, time per output token), the routing decision (tier, model, why,
// cascade), and the GenAI attributes of the request's span when tracing is on.
import type { Registry } from "prom-client";
import { Counter } from "prom-client";
import { bindCounter, bindHistogram, ChildCache, type BoundCounter, type BoundHistogram } from "#libs/metrics/bound.ts";
import { genAiServerMetrics, type GenAiServerMetrics } from "#libs/metrics/genai.ts";
import { tierName } from "#libs/rpc/tier.ts";
import { annotateGenAiSpan } from "./genai-span.ts";
import type { ChatOutcome, ChatRecord } from "./record.ts";

interface ObserveMetrics extends GenAiServerMetrics {
  decisions: Counter<"tier" | "model" | "reason" | "cascade">;
}

/** The GenAI series of one (provider, requested model, answering model), bound once (libs/metrics/bound.ts). */
interface GenAiChildren {
  duration: Map<string, BoundHistogram>;
  ttft: BoundHistogram;
  tpot: BoundHistogram;
}

// One set per registry: a registry refuses a second metric of the same name (tests build many pipelines).
const byRegistry = new WeakMap<Registry, ObserveMetrics>();

function metricsFor(registry: Registry): ObserveMetrics {
  let m = byRegistry.get(registry);
  if (!m) {
    m = {
      ...genAiServerMetrics(registry),
      decisions: new Counter({
        name: "llmgw_routing_decisions_total",
        help: "Routing decisions by tier, first candidate model, main reason and whether the answer was cascaded",
        labelNames: ["tier", "model", "reason", "cascade"],
        registers: [registry],
      }),
    };
    byRegistry.set(registry, m);
  }
  return m;
}

/**
 * The main reason of a decision, from the router's reasons (free text, made for people), as one of a
 * few label values so the label's cardinality stays bounded. The most specific reason wins.
 */
export function decisionReason(reasons: readonly string[]): string {
  const all = reasons.length === 1 ? (reasons[0] as string) : reasons.join("\n");
  // Routers give the same few texts again and again: up to seven regex tests per request otherwise.
  const known = reasonOf.get(all);
  if (known !== undefined) return known;
  const reason = reasonOfText(all);
  if (reasonOf.size >= MAX_REASON_TEXTS) reasonOf.clear();
  reasonOf.set(all, reason);
  return reason;
}

/** Reason texts remembered; past this many distinct ones (texts carrying numbers), start over. */
const MAX_REASON_TEXTS = 512;
const reasonOf = new Map<string, string>();

function reasonOfText(all: string): string {
  if (/canary v\d+ override/.test(all)) return "canary";
  if (/^override .* -> /m.test(all) && !/not applied/.test(all)) return "override";
  if (/soft budget limit/.test(all)) return "soft_budget";
  if (/^session stays/m.test(all)) return "session";
  if (/no capable .* model/.test(all)) return "no_capable_tier";
  if (/prompt cache warm/.test(all)) return "provider_affinity";
  if (/^model .* requested/m.test(all)) return "requested";
  return "classified";
}

export function observeHook(registry: Registry): (rec: ChatRecord, out: ChatOutcome) => void {
  const m = metricsFor(registry);
  // Per hook, not per registry: the caches only hold bindings, the series live in the registry.
  const genAi = new ChildCache<GenAiChildren>();
  const decisions = new ChildCache<BoundCounter>();
  const genAiOf = (provider: string, requestModel: string, responseModel: string): GenAiChildren => {
    const key = `${provider}\u0000${requestModel}\u0000${responseModel}`;
    const hit = genAi.get(key);
    if (hit) return hit;
    const labels = { gen_ai_operation_name: "chat", gen_ai_provider_name: provider, gen_ai_request_model: requestModel, gen_ai_response_model: responseModel };
    return genAi.set(key, { duration: new Map(), ttft: bindHistogram(m.timeToFirstToken, labels), tpot: bindHistogram(m.timePerOutputToken, labels) });
  };
  return (rec, out) => {
    annotateGenAiSpan(rec, out);
    const c = genAiOf(out.provider, rec.call.body.model, out.model);
    const ok = out.status === 200;
    const errorType = ok ? "" : out.errorCode || String(out.status);
    let duration = c.duration.get(errorType);
    if (!duration) {
      const labels = { gen_ai_operation_name: "chat", gen_ai_provider_name: out.provider, gen_ai_request_model: rec.call.body.model, gen_ai_response_model: out.model, error_type: errorType };
      c.duration.set(errorType, (duration = bindHistogram(m.requestDuration, labels)));
    }
    duration.observe(out.totalMs / 1000);
    if (ok && out.stream && out.firstTokenMs !== undefined) {
      c.ttft.observe(out.firstTokenMs / 1000);
      const tokens = out.answerUsage ? Number(out.answerUsage.outputTokens) : (out.completion?.usage?.completion_tokens ?? 0);
      if (tokens > 1) c.tpot.observe(Math.max(0, out.totalMs - out.firstTokenMs) / 1000 / (tokens - 1));
    }
    const route = rec.route;
    if (route) {
      const labels = { tier: tierName(route.tier), model: route.candidates[0]?.model ?? "", reason: decisionReason(route.reasons), cascade: String(route.cascade && !out.stream) };
      const key = `${labels.tier}\u0000${labels.model}\u0000${labels.reason}\u0000${labels.cascade}`;
      (decisions.get(key) ?? decisions.set(key, bindCounter(m.decisions, labels))).inc();
    }
  };
}
