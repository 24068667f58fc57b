// Pure routing policy: the cheapest capable candidate for a classified request. Every step that
// changes the decision leaves a reason, logged and returned to the client in a header.
import type { Strategy } from "#libs/config/closed-sets.ts";
import type { RoutingOverride } from "#libs/config/routing-overrides.ts";
import type { Config } from "#libs/config/schema.ts";
import { TIER_NAMES, type TierName } from "#libs/rpc/tier.ts";
import type { PolicyArm } from "./canary-arm.ts";
import { maxTier, type SessionStore } from "./sessions.ts";
import { orderBy } from "./strategies.ts";
import type { BreakerState, ModelView, RouteDecision, RouteInput } from "./types.ts";

export interface PolicyDeps {
  config: Config;
  models: ReadonlyMap<string, ModelView>;
  health: (model: string) => BreakerState;
  sessions: SessionStore;
  /** Uniform [0,1) for shadow sampling (injected in tests). */
  random?: () => number;
  /** The overrides in force (the live policy version); default: the configured ones. */
  overrides?: () => readonly RoutingOverride[];
  /** The policy arm of a request (live version, or a canary on trial); default: `overrides`. */
  arm?: (tenantId: string, sessionId: string, requestId: string) => PolicyArm;
}

export function isAlias(config: Config, model: string): boolean {
  return config.edge.aliases.includes(model);
}

export function decide(input: RouteInput, deps: PolicyDeps): RouteDecision {
  const { config, models } = deps;
  const reasons: string[] = [];
  const strategy: Strategy = input.strategy || config.routing.strategy;

  // Capability and context fit are decided here, once, on the edge's one prompt estimate. The output the
  // client allows counts in full: providers refuse a prompt plus max_tokens past the window, and a
  // max_tokens past the model's output limit (Claude Code asks for 32,000).
  const output = input.maxTokens || 0;
  const need = input.inputTokens + output;
  const misfit = { context: false, capability: false, output: false };
  const fits = (m: ModelView, why: string[]): boolean => {
    if (m.contextWindow < input.inputTokens + 1) {
      why.push(`${m.id}: context ${m.contextWindow} < prompt ${input.inputTokens}`);
      misfit.context = true;
      return false;
    }
    if (m.maxOutputTokens < output) {
      why.push(`${m.id}: output limit ${m.maxOutputTokens} < max_tokens ${output}`);
      misfit.output = true;
      return false;
    }
    if (m.contextWindow < need) {
      why.push(`${m.id}: context ${m.contextWindow} < prompt+output ${need}`);
      misfit.context = true;
      return false;
    }
    const missing = input.capabilities.filter((c) => c !== "streaming" && !m.capabilities.includes(c));
    if (missing.length) {
      why.push(`${m.id}: lacks ${missing.join(",")}`);
      misfit.capability = true;
      return false;
    }
    return true;
  };

  // A concrete model is honoured as asked (the client chose, the gateway does not second-guess)
  // when it can take the request at all.
  if (!isAlias(config, input.requestedModel)) {
    const m = models.get(input.requestedModel);
    reasons.push(`model ${input.requestedModel} requested`);
    if (!m) return { candidates: [], tier: input.tier, cascade: false, escalation: [], reasons, referenceModel: input.requestedModel, shadow: [], refusal: { code: "model_not_found", param: "model", message: `The model '${input.requestedModel}' does not exist.` } };
    const ok = fits(m, reasons);
    return { candidates: ok ? [m] : [], tier: input.tier, cascade: false, escalation: [], reasons, referenceModel: input.requestedModel, shadow: [], ...refusalOf(ok, misfit, input) };
  }

  let tier = input.tier;
  const session = deps.sessions.get(input.sessionId);
  if (session && TIER_NAMES.indexOf(session.tier) > TIER_NAMES.indexOf(tier)) {
    reasons.push(`session stays at ${session.tier} (classified ${tier})`);
    tier = maxTier(tier, session.tier);
  }
  if (input.budgetState === "soft" && tier !== "LOW" && tier !== "AGENTIC" && !session) {
    const lower = TIER_NAMES[TIER_NAMES.indexOf(tier) - 1] as TierName;
    reasons.push(`soft budget limit: ${tier} -> ${lower}`);
    tier = lower;
  }

  const capable = (m: ModelView, why: string[]): boolean => {
    if (!fits(m, why)) return false;
    if (deps.health(m.id) === "open") {
      why.push(`${m.id}: breaker open`);
      return false;
    }
    return true;
  };

  // The tier's list, then every higher tier's, so a request no cheap model can take still finds a home.
  const pick = (fromTier: TierName): { list: ModelView[]; firstTier: TierName; outside: boolean } => {
    const seen = new Set<string>();
    const out: ModelView[] = [];
    let firstTier: TierName = fromTier;
    for (const t of TIER_NAMES.slice(TIER_NAMES.indexOf(fromTier))) {
      const ordered = orderBy(idsOf(config, t).map((id) => models.get(id)).filter((m): m is ModelView => m !== undefined), strategy);
      for (const m of ordered) {
        if (seen.has(m.id)) continue;
        seen.add(m.id);
        if (capable(m, reasons)) {
          if (out.length === 0) firstTier = t;
          out.push(m);
        }
      }
    }
    // A capability no tier's model has (reasoning, say, when only o3-mini takes reasoning_effort): any
    // configured model that has it, cheapest by the strategy. Context misfits never leave the tiers.
    if (out.length === 0 && misfit.capability) {
      const rest = orderBy([...models.values()].filter((m) => !seen.has(m.id) && config.models[m.id]?.kind !== "embedding"), strategy);
      for (const m of rest) if (capable(m, reasons)) out.push(m);
      if (out.length > 0) reasons.push(`no ${fromTier} or higher tier model can; using ${out[0]?.id} from outside the tiers`);
      return { list: out, firstTier, outside: out.length > 0 };
    }
    return { list: out, firstTier, outside: false };
  };

  const { list, firstTier, outside } = pick(tier);
  if (firstTier !== tier && list.length > 0) reasons.push(`no capable ${tier} model; using ${firstTier}`);
  let candidates = list;

  // Keep the provider whose prompt cache is warm for this conversation, among equally capable candidates of the tier.
  if (session && deps.sessions.isWarm(session)) {
    const same = candidates.filter((m) => m.provider === session.provider && idsOf(config, firstTier).includes(m.id));
    if (same.length > 0 && candidates[0]?.provider !== session.provider) {
      reasons.push(`provider ${session.provider} kept: prompt cache warm`);
      candidates = [...same, ...candidates.filter((m) => !same.includes(m))];
    }
  }

  const cascadeCfg = config.routing.cascade;
  const cascade =
    cascadeCfg.enabled &&
    !outside &&
    !input.stream &&
    cascadeCfg.tiers.includes(firstTier) &&
    (cascadeCfg.categories.length === 0 || cascadeCfg.categories.includes(input.category));
  let escalation: ModelView[] = [];
  if (cascade) {
    const next = TIER_NAMES[TIER_NAMES.indexOf(firstTier) + 1];
    if (next) {
      // Escalate to the next tier's models, never back to the cheap model that just failed.
      const tierIds = new Set(idsOf(config, firstTier));
      candidates = candidates.filter((m) => tierIds.has(m.id));
      escalation = pick(next).list.filter((m) => m.id !== candidates[0]?.id);
    }
  }
  let doCascade = cascade && escalation.length > 0 && candidates.length > 0;

  // A reviewed, shadow-tested exception for this category and tier puts its model first (the
  // usual candidates stay as fallbacks). In a cascade tier a cheaper model takes the cascade's first
  // place and is still verified: its shadow tests were judged against answers that passed that check
  // (an escalated answer is recorded under the model that served it), so they vouch for it only
  // with the check kept. A model the cascade escalates to replaces the cascade.
  const served = candidates[0]?.id;
  const arm: PolicyArm = deps.arm?.(input.tenantId ?? "", input.sessionId, input.requestId ?? "") ?? { version: 0, canary: false, overrides: deps.overrides?.() ?? config.routing.overrides };
  let canaryDowngrade: ModelView | undefined;
  const ov = arm.overrides.find((o) => o.category === input.category && o.tier === firstTier && (o.instead_of === undefined || o.instead_of === served));
  if (ov && served !== undefined && ov.use !== served) {
    const m = models.get(ov.use);
    const why: string[] = [];
    if (m && capable(m, why)) {
      if (arm.canary) canaryDowngrade = candidates[0];
      candidates = [m, ...candidates.filter((c) => c.id !== m.id)];
      if (escalation.some((e) => e.id === m.id)) doCascade = false;
      reasons.push(`${arm.canary ? `canary v${arm.version} ` : ""}override ${ov.category}/${ov.tier}: ${served} -> ${m.id}${ov.evidence ? ` (shadow-tested: ${ov.evidence.passes}/${ov.evidence.n} agreed)` : ""}`);
    } else {
      reasons.push(`override ${ov.category}/${ov.tier} -> ${ov.use} not applied (${why.join("; ") || "unknown model"})`);
    }
  }
  if (doCascade) reasons.push(`cascade: ${candidates[0]?.id} verified, escalates to ${escalation[0]?.id}`);
  if (candidates[0]) reasons.push(`${firstTier} -> ${candidates[0].id} (${strategy})`);
  if (candidates.length > 0) deps.sessions.record(input.sessionId, firstTier, candidates[0]?.provider ?? "", candidates[0]?.id ?? "");

  // Shadow test: a sampled share of this tier's traffic is replayed on the next tier down's
  // cheapest capable models, so the evaluator can say where the cheaper tier is as good.
  const sh = config.routing.shadow;
  let shadow: ModelView[] = [];
  const lower = TIER_NAMES[TIER_NAMES.indexOf(firstTier) - 1];
  const excluded = input.tenantId !== undefined && sh.exclude_tenants.includes(input.tenantId);
  const random = deps.random ?? Math.random;
  // A canary's downgrade is checked the other way round: its answer against the live version's model.
  if (canaryDowngrade && !excluded && random() < config.routing.canary.shadow_rate) {
    reasons.push(`canary check on ${canaryDowngrade.id}`);
    return { candidates, tier: firstTier, cascade: false, escalation: [], reasons, referenceModel: config.routing.reference_model, shadow: [canaryDowngrade], shadowUpward: true, policy: { version: arm.version, canary: arm.canary } };
  }
  if (lower && !excluded && sh.sample_rate > 0 && sh.tiers.includes(firstTier) && candidates.length > 0 && random() < sh.sample_rate) {
    const lowerIds = new Set(idsOf(config, lower));
    shadow = pick(lower)
      .list.filter((m) => lowerIds.has(m.id) && m.id !== candidates[0]?.id)
      .slice(0, sh.candidates);
    if (shadow.length > 0) reasons.push(`shadow test on ${shadow.map((m) => m.id).join(",")}`);
  }
  return { candidates, tier: firstTier, cascade: doCascade, escalation: doCascade ? escalation : [], reasons, referenceModel: config.routing.reference_model, shadow, policy: { version: arm.version, canary: arm.canary }, ...refusalOf(candidates.length > 0, misfit, input) };
}

/** Why no model can take the request, most actionable first; nothing when one can. */
function refusalOf(ok: boolean, misfit: { context: boolean; capability: boolean; output: boolean }, input: RouteInput): Pick<RouteDecision, "refusal"> {
  if (ok) return {};
  if (misfit.output && !misfit.context && !misfit.capability) {
    return { refusal: { code: "invalid_value", param: "max_tokens", message: `max_tokens is too large: ${input.maxTokens}. No candidate model can write that many completion tokens.` } };
  }
  if (misfit.context) return { refusal: { code: "context_length_exceeded", param: "messages", message: `The request (${input.inputTokens} prompt tokens) does not fit the context window of any candidate model.` } };
  if (misfit.capability) {
    const need = input.capabilities.filter((c) => c !== "streaming").join(", ");
    return { refusal: { code: "unsupported_capability", param: "", message: `No candidate model supports what the request needs (${need}).` } };
  }
  return { refusal: { code: "no_capable_model", param: "model", message: `No configured model can serve ${input.requestedModel} right now.` } };
}

function idsOf(config: Config, tier: TierName): string[] {
  return config.routing.tiers[tier] ?? [];
}
