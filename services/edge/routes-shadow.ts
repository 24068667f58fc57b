// Shadow-test report over REST: per category and tier, how often a cheaper model's answer agreed with
// the served one (the evaluator's findings). Admin: any tenant or all; a tenant key: its own only.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { errors } from "#libs/errors/openai-error.ts";
import { tierName } from "#libs/rpc/tier.ts";
import type { AuthContext } from "./auth.ts";
import type { EdgeDeps } from "./deps.ts";

export function registerShadowRoutes(app: FastifyInstance, deps: EdgeDeps, authenticate: (req: FastifyRequest) => Promise<AuthContext>): void {
  app.get<{ Querystring: { tenant_id?: string; since?: string } }>("/v1/llmgw/shadow/report", async (req) => {
    const who = await authenticate(req);
    // The evaluator's report has no time window: a 'since' (which the other reports take) would be
    // silently ignored, so it is refused rather than answered with every sample.
    if (req.query.since !== undefined) throw errors.badRequest("The shadow report covers every recorded sample; it takes no 'since'.", "since", "unknown_parameter");
    const tenantId = who.admin ? (req.query.tenant_id ?? "") : who.tenantId;
    const res = await deps.clients.evaluator.getDowngradeReport({ tenantId });
    return {
      object: "list",
      tenant_id: tenantId || null,
      data: res.findings.map((f) => ({ category: f.category, tier: tierName(f.tier), from_model: f.fromModel, to_model: f.toModel, samples: Number(f.samples), pass_rate: f.passRate, safe: f.safe })),
    };
  });
}
