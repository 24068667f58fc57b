// RouterService over gRPC: proto in, policy decision out. No I/O.
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { routingOverridesSchema } from "#libs/config/routing-overrides.ts";
import type { LivePolicyView } from "./live-policy.ts";
import type { PolicyStore } from "./storage/policy-store.ts";
import { serviceError } from "#libs/errors/connect-to-openai.ts";
import { BUDGET_STATES, isMember, STRATEGIES } from "#libs/config/closed-sets.ts";
import { capabilitySchema, type Config } from "#libs/config/schema.ts";
import type { Candidate } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import { RouterService, type RouteResponse } from "#libs/gen/llmgw/router/v1/router_pb.ts";
import type { Logger } from "#libs/log/logger.ts";
import { tierFromName, tierName } from "#libs/rpc/tier.ts";
import { decide, type PolicyDeps } from "./domain/policy.ts";
import type { ModelView } from "./domain/types.ts";

type Impl = ServiceImpl<typeof RouterService>;

/** The versioned policy behind GetPolicy/ApplyPolicy/RevertPolicy. */
export interface PolicyAdmin {
  store: PolicyStore;
  live: LivePolicyView;
}

export class RouterServiceImpl implements Impl {
  constructor(
    private readonly policy: PolicyDeps,
    private readonly logger: Logger,
    private readonly admin?: PolicyAdmin,
  ) {}

  async getPolicy() {
    return { policy: await this.policyState() };
  }

  async applyPolicy(req: Parameters<Impl["applyPolicy"]>[0]) {
    const admin = this.requireAdmin();
    let raw: unknown;
    try {
      raw = JSON.parse(req.overridesJson || "[]");
    } catch {
      throw serviceError("overrides_json is not valid JSON", Code.InvalidArgument, { param: "overrides" });
    }
    const parsed = routingOverridesSchema.safeParse(raw);
    if (!parsed.success) throw serviceError(`invalid overrides: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`, Code.InvalidArgument, { param: "overrides" });
    const unknown = parsed.data.flatMap((o) => [o.use, ...(o.instead_of ? [o.instead_of] : [])]).filter((m) => !this.policy.models.has(m));
    if (unknown.length > 0) throw serviceError(`unknown models in overrides: ${[...new Set(unknown)].join(", ")}`, Code.InvalidArgument, { param: "overrides" });
    const share = req.canaryShare;
    if (!Number.isFinite(share) || share < 0 || share > 1) throw serviceError("canary_share must be between 0 and 1", Code.InvalidArgument, { param: "canary_share" });
    if (share > 0) {
      const version = await admin.store.startCanary(parsed.data, share, req.reason);
      await admin.live.refresh();
      this.logger.info({ version, share, overrides: parsed.data.length, reason: req.reason }, "routing policy canary started");
      return { policy: await this.policyState() };
    }
    const version = await admin.store.apply(parsed.data, req.reason);
    await admin.live.refresh();
    this.logger.info({ version, overrides: parsed.data.length, reason: req.reason }, "routing policy applied");
    return { policy: await this.policyState() };
  }

  async promoteCanary(req: Parameters<Impl["promoteCanary"]>[0]) {
    const admin = this.requireAdmin();
    const version = await admin.store.promoteCanary(req.reason || "canary promoted");
    if (version === undefined) throw serviceError("no canary is running", Code.FailedPrecondition, { code: "no_canary" });
    await admin.live.refresh();
    this.logger.info({ version, reason: req.reason }, "routing policy canary promoted");
    return { policy: await this.policyState() };
  }

  async stopCanary(req: Parameters<Impl["stopCanary"]>[0]) {
    const admin = this.requireAdmin();
    if (!(await admin.store.stopCanary())) throw serviceError("no canary is running", Code.FailedPrecondition, { code: "no_canary" });
    await admin.live.refresh();
    this.logger.info({ reason: req.reason }, "routing policy canary stopped");
    return { policy: await this.policyState() };
  }

  async revertPolicy(req: Parameters<Impl["revertPolicy"]>[0]) {
    const admin = this.requireAdmin();
    const version = Number(req.version);
    if (!Number.isInteger(version) || version < 0) throw serviceError("version must be a non-negative integer", Code.InvalidArgument, { param: "version" });
    if (!(await admin.store.revert(version, req.reason || `revert to ${version}`))) throw serviceError(`no policy version ${version}`, Code.NotFound, { param: "version" });
    await admin.live.refresh();
    this.logger.info({ version, reason: req.reason }, "routing policy reverted");
    return { policy: await this.policyState() };
  }

  private requireAdmin(): PolicyAdmin {
    if (!this.admin) throw new ConnectError("this router has no policy store", Code.FailedPrecondition);
    return this.admin;
  }

  private async policyState() {
    const s = this.admin?.live.state() ?? { version: 0, overrides: [...this.policy.config.routing.overrides], reason: "configured overrides (deploy/config)", changedAt: "" };
    const history = this.admin ? await this.admin.store.history() : [];
    const c = this.admin?.live.canary();
    return {
      canary: c ? { version: BigInt(c.version), share: c.share, overridesJson: JSON.stringify(c.overrides), reason: c.reason, startedAt: c.startedAt } : undefined,
      version: BigInt(s.version),
      overridesJson: JSON.stringify(s.overrides),
      reason: s.reason,
      changedAt: s.changedAt,
      history: history.map((h) => ({ version: BigInt(h.version), reason: h.reason, createdAt: h.createdAt, overrides: h.overrides })),
    };
  }

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
        requestId: req.context?.requestId ?? "",
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
    // A whole message ($typeName and every field): the in-process client passes it on without a create().
    const res: RouteResponse = {
      $typeName: "llmgw.router.v1.RouteResponse",
      candidates: d.candidates.map(candidate),
      tier: tierFromName(d.tier),
      cascade: d.cascade,
      escalation: d.escalation.map(candidate),
      reasons: d.reasons,
      referenceModel: d.referenceModel,
      shadowCandidates: d.shadow.map(candidate),
      shadowUpward: d.shadowUpward ?? false,
      policyVersion: BigInt(d.policy?.version ?? 0),
      policyCanary: d.policy?.canary ?? false,
    };
    return res;
  }

  listModels() {
    const config: Config = this.policy.config;
    const models = [...this.policy.models.values()].map((m) => ({ id: m.id, ownedBy: m.provider, contextWindow: BigInt(m.contextWindow), capabilities: [...m.capabilities], alias: false }));
    const aliases = config.edge.aliases.map((a) => ({ id: a, ownedBy: "llmgw", contextWindow: BigInt(Math.max(...models.map((m) => Number(m.contextWindow)))), capabilities: [...capabilitySchema.options], alias: true }));
    return { models: [...aliases, ...models] };
  }
}

function candidate(m: ModelView): Candidate {
  return { $typeName: "llmgw.common.v1.Candidate", model: m.id, provider: m.provider, upstreamModel: m.upstream, contextWindow: BigInt(m.contextWindow) };
}
