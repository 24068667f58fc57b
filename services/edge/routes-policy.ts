// Admin REST for the versioned routing policy (the router owns it): which version is live and why,
// apply a reviewed set of overrides (e.g. the YAML patch of `npm run analyze`), revert to any version.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { parse } from "yaml";
import { errors } from "#libs/errors/openai-error.ts";
import type { PolicyState } from "#libs/gen/llmgw/router/v1/router_pb.ts";
import { canaryReport } from "./policy-canary-report.ts";
import { adminOnly, type AuthContext } from "./auth.ts";
import type { EdgeDeps } from "./deps.ts";

export function registerPolicyRoutes(app: FastifyInstance, deps: EdgeDeps, authenticate: (req: FastifyRequest) => Promise<AuthContext>): void {
  const admin = adminOnly(authenticate);

  app.get("/v1/llmgw/policy", async (req) => {
    await admin(req);
    return view((await deps.clients.router.getPolicy({})).policy);
  });

  // Body: {"overrides": [...], "reason": "..."} or {"yaml": "<the analysis patch>", "reason": "..."};
  // with "canary_share" (0..1] the version runs as a canary on that share of sessions instead.
  app.post<{ Body: { overrides?: unknown; yaml?: unknown; reason?: unknown; canary_share?: unknown } | undefined }>("/v1/llmgw/policy", async (req) => {
    await admin(req);
    const b = req.body ?? {};
    let overrides: unknown = b.overrides;
    if (overrides === undefined && typeof b.yaml === "string") {
      let doc: unknown;
      try {
        doc = parse(b.yaml);
      } catch {
        throw errors.badRequest("'yaml' is not valid YAML.", "yaml");
      }
      overrides = (doc as { routing?: { overrides?: unknown } } | null)?.routing?.overrides;
    }
    if (!Array.isArray(overrides)) throw errors.badRequest("Send 'overrides' (an array) or 'yaml' (a patch with routing.overrides).", "overrides");
    if (b.reason !== undefined && typeof b.reason !== "string") throw errors.badRequest("'reason' must be a string.", "reason");
    const share = b.canary_share ?? 0;
    if (typeof share !== "number" || !Number.isFinite(share) || share < 0 || share > 1) throw errors.badRequest("'canary_share' must be a number between 0 and 1.", "canary_share");
    const res = await deps.clients.router.applyPolicy({ overridesJson: JSON.stringify(overrides), reason: typeof b.reason === "string" ? b.reason : "", canaryShare: share });
    return view(res.policy);
  });

  app.post<{ Body: { reason?: unknown } | undefined }>("/v1/llmgw/policy/canary/promote", async (req) => {
    await admin(req);
    const res = await deps.clients.router.promoteCanary({ reason: reasonOf(req.body) || "canary promoted" });
    return view(res.policy);
  });

  app.post<{ Body: { reason?: unknown } | undefined }>("/v1/llmgw/policy/canary/stop", async (req) => {
    await admin(req);
    const res = await deps.clients.router.stopCanary({ reason: reasonOf(req.body) || "canary stopped" });
    return view(res.policy);
  });

  // The canary beside the live version since it started: cost from the ledger, quality from the
  // evaluator's shadow tests (its downgrades checked against the live version's model).
  app.get("/v1/llmgw/policy/canary", async (req) => {
    await admin(req);
    const policy = (await deps.clients.router.getPolicy({})).policy;
    const c = policy?.canary;
    if (!c) throw errors.notFound("No canary is running.");
    const since = c.startedAt ? new Date(c.startedAt) : new Date(0);
    const sinceIso = Number.isNaN(since.getTime()) ? new Date(0).toISOString() : since.toISOString();
    const [spend, quality] = await Promise.all([
      deps.clients.ledger.getSpend({ since: sinceIso, groupBy: "policy" }),
      deps.clients.evaluator.getPolicyQuality({ since: sinceIso }),
    ]);
    return canaryReport(policy, c, spend.rows, quality.rows);
  });

  app.post<{ Body: { version?: unknown; reason?: unknown } | undefined }>("/v1/llmgw/policy/revert", async (req) => {
    await admin(req);
    const b = req.body ?? {};
    // A safe integer: larger ones are not the number the client wrote, and past int8 PostgreSQL fails (a 500).
    if (typeof b.version !== "number" || !Number.isSafeInteger(b.version) || b.version < 0) throw errors.badRequest("'version' must be a non-negative integer (0: the configured overrides).", "version");
    const res = await deps.clients.router.revertPolicy({ version: BigInt(b.version), reason: typeof b.reason === "string" ? b.reason : "" });
    return view(res.policy);
  });
}

function reasonOf(body: { reason?: unknown } | undefined): string {
  if (body?.reason !== undefined && typeof body.reason !== "string") throw errors.badRequest("'reason' must be a string.", "reason");
  return body?.reason ?? "";
}

function view(p: PolicyState | undefined) {
  const c = p?.canary;
  return {
    canary: c ? { version: Number(c.version), share: c.share, reason: c.reason, started_at: c.startedAt, overrides: JSON.parse(c.overridesJson || "[]") as unknown } : null,
    version: Number(p?.version ?? 0n),
    reason: p?.reason ?? "",
    changed_at: p?.changedAt || null,
    overrides: JSON.parse(p?.overridesJson || "[]") as unknown,
    history: (p?.history ?? []).map((h) => ({ version: Number(h.version), reason: h.reason, created_at: h.createdAt, overrides: h.overrides })),
  };
}
