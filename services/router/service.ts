// RouterService over gRPC: proto in, policy decision out. No I/O.
import { Code, type ServiceImpl } from "@connectrpc/connect";
import { serviceError } from "#libs/errors/connect-to-openai.ts";
import { BUDGET_STATES, isMember, STRATEGIES } from "#libs/config/closed-sets.ts";
import type { Config } from "#libs/config/schema.ts";
import { RouterService } from "#libs/gen/llmgw/router/v1/router_pb.ts";
import type { Logger } from "#libs/log/logger.ts";
import { tierFromName, tierName } from "#libs/rpc/tier.ts";
import { decide, type PolicyDeps } from "./domain/policy.ts";
import type { ModelView } from "./domain/types.ts";

type Impl = ServiceImpl<typeof RouterService>;

export class RouterServiceImpl implements Impl {
  constructor(
    private readonly policy: PolicyDeps,
    private readonly logger: Logger,
  ) {}

  route(req: Parameters<Impl["route"]>[0]) {
    const d = decide(
      {
        requestedModel: req.requestedModel,
        tier: tierName(req.tier) || "MEDIUM",
        category: req.category,
        inputTokens: Number(req.inputTokens),
        maxTokens: req.maxTokens,
        capabilities: req.requiredCapabilities,
        sessionId: req.sessionId,
        tenantId: req.context?.tenantId ?? "",
        strategy: isMember(STRATEGIES, req.strategy) ? req.strategy : "",
        budgetState: isMember(BUDGET_STATES, req.budgetState) ? req.budgetState : "",
        stream: req.stream,
      },
      this.policy,
    );
    this.logger.debug({ requestId: req.context?.requestId, tier: d.tier, model: d.candidates[0]?.id, reasons: d.reasons }, "routed");
    if (d.refusal) {
      const code = d.refusal.code === "model_not_found" ? Code.NotFound : Code.InvalidArgument;
      throw serviceError(`${d.refusal.message} (${d.reasons.join("; ")})`, code, { code: d.refusal.code, ...(d.refusal.param ? { param: d.refusal.param } : {}) });
    }
    return {
      candidates: d.candidates.map(candidate),
      tier: tierFromName(d.tier),
      cascade: d.cascade,
      escalation: d.escalation.map(candidate),
      reasons: d.reasons,
      referenceModel: d.referenceModel,
      shadowCandidates: d.shadow.map(candidate),
    };
  }

  listModels() {
    const config: Config = this.policy.config;
    const models = [...this.policy.models.values()].map((m) => ({ id: m.id, ownedBy: m.provider, contextWindow: BigInt(m.contextWindow), capabilities: [...m.capabilities], alias: false }));
    const aliases = config.edge.aliases.map((a) => ({ id: a, ownedBy: "llmgw", contextWindow: BigInt(Math.max(...models.map((m) => Number(m.contextWindow)))), capabilities: ["tools", "json_mode", "vision", "streaming"], alias: true }));
    return { models: [...aliases, ...models] };
  }
}

function candidate(m: ModelView) {
  return { model: m.id, provider: m.provider, upstreamModel: m.upstream, contextWindow: BigInt(m.contextWindow) };
}
