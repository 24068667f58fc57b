// One batch line through the live pipeline's first steps: classify, exact-cache lookup, route. A
// line answered by the exact cache is not sent; any other gets one concrete model whose provider has
// a batch API (a named model is kept; "auto" takes the first such candidate the router ranks). A
// line no batch-capable model can serve is routed "live": the worker runs it as an ordinary call.
import type OpenAI from "openai";
import { CacheControl } from "#libs/gen/llmgw/cache/v1/cache_pb.ts";
import { Tier } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import { tierName } from "#libs/rpc/tier.ts";
import { countPromptTokens } from "#libs/tokens/count.ts";
import { canonicalParams } from "./chat/steps.ts";
import type { EdgeDeps } from "./deps.ts";
import { requestFacts } from "./messages.ts";

/** Provider types whose batch API the executor speaks (OpenAI Batch; Anthropic Message Batches), unless batch_api: false. */
export const BATCH_PROVIDER_TYPES: ReadonlySet<string> = new Set(["openai", "anthropic"]);

export type LineRoute =
  | { kind: "cached"; tier: Tier; category: string; model: string; completionJson: string }
  | { kind: "routed"; tier: Tier; category: string; model: string; provider: string; live: boolean }
  | { kind: "refused"; tier: Tier; category: string; code: string; message: string };

export function batchCapable(deps: Pick<EdgeDeps, "config">, model: string): boolean {
  const m = deps.config.models[model];
  const p = m ? deps.config.providers[m.provider] : undefined;
  return m !== undefined && m.kind !== "embedding" && p !== undefined && p.batch_api && BATCH_PROVIDER_TYPES.has(p.type);
}

export async function routeBatchLine(deps: EdgeDeps, ctx: { requestId: string; tenantId: string; keyId: string }, bodyJson: string): Promise<LineRoute> {
  const body = JSON.parse(bodyJson) as OpenAI.Chat.ChatCompletionCreateParams;
  const alias = deps.config.edge.aliases.includes(body.model);
  const modelCfg = deps.config.models[body.model];
  const facts = requestFacts(body, modelCfg?.max_output_tokens ?? 1024);
  const context = { ...ctx, traceId: "" };
  const cls = await deps.clients.classifier.classify({ context, messages: facts.messages, hasTools: facts.hasTools, jsonMode: facts.jsonMode, maxTokens: facts.maxTokens });
  const base = { tier: cls.tier, category: cls.category };
  if (!alias && !modelCfg) return { kind: "refused", ...base, code: "model_not_found", message: `The model '${body.model}' does not exist.` };

  // Exact answers only: a batch line is a fixed request, a near neighbour's answer is not its answer.
  try {
    const hit = await deps.clients.cache.lookup({
      key: { context, scope: alias ? tierName(cls.tier) : body.model, messages: facts.messages, paramsJson: canonicalParams(body), category: cls.category, control: CacheControl.DEFAULT },
    });
    if (hit.hit && hit.layer === "exact") return { kind: "cached", ...base, model: hit.model || body.model, completionJson: hit.completionJson };
  } catch (e) {
    // A cache outage costs money (the line is sent), never the line.
    deps.logger.warn({ err: e instanceof Error ? e.message : String(e), requestId: ctx.requestId }, "batch line cache lookup failed");
  }

  const r = await deps.clients.router.route({
    context,
    requestedModel: body.model,
    tier: alias ? cls.tier : Tier.UNSPECIFIED,
    category: cls.category,
    inputTokens: BigInt(countPromptTokens(facts.texts).tokens),
    maxTokens: facts.askedMaxTokens,
    requiredCapabilities: facts.capabilities,
    stream: false,
  });
  const ranked = [...r.candidates, ...r.escalation];
  const pick = alias ? (ranked.find((c) => batchCapable(deps, c.model)) ?? ranked[0])?.model : r.candidates.some((c) => c.model === body.model) ? body.model : undefined;
  if (pick === undefined) {
    const why = alias ? `'${body.model}' routed to no model` : `'${body.model}' cannot serve this request (${r.reasons.join("; ") || "context window or capabilities"})`;
    return { kind: "refused", ...base, code: alias ? "unsupported_model" : "no_capable_model", message: why };
  }
  const provider = deps.config.models[pick]?.provider ?? "";
  return { kind: "routed", ...base, model: pick, provider, live: !batchCapable(deps, pick) };
}
