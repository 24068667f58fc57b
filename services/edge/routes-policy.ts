// Admin REST for the versioned routing policy (the router owns it): which version is live and why,
// apply a reviewed set of overrides (e.g. the YAML patch of `npm run analyze`), revert to any version.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { parse } from "yaml";
import { errors } from "#libs/errors/openai-error.ts";
import type { PolicyState } from "#libs/gen/llmgw/router/v1/router_pb.ts";
import { adminOnly, type AuthContext } from "./auth.ts";
import type { EdgeDeps } from "./deps.ts";

export function registerPolicyRoutes(app: FastifyInstance, deps: EdgeDeps, authenticate: (req: FastifyRequest) => Promise<AuthContext>): void {
  const admin = adminOnly(authenticate);

  app.get("/v1/llmgw/policy", async (req) => {
    await admin(req);
    return view((await deps.clients.router.getPolicy({})).policy);
  });

  // Body: {"overrides": [...], "reason": "..."} or {"yaml": "<the analysis patch>", "reason": "..."}.
  app.post<{ Body: { overrides?: unknown; yaml?: unknown; reason?: unknown } | undefined }>("/v1/llmgw/policy", async (req) => {
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
    const res = await deps.clients.router.applyPolicy({ overridesJson: JSON.stringify(overrides), reason: typeof b.reason === "string" ? b.reason : "" });
    return view(res.policy);
  });

  app.post<{ Body: { version?: unknown; reason?: unknown } | undefined }>("/v1/llmgw/policy/revert", async (req) => {
    await admin(req);
    const b = req.body ?? {};
    if (typeof b.version !== "number" || !Number.isInteger(b.version) || b.version < 0) throw errors.badRequest("'version' must be a non-negative integer (0: the configured overrides).", "version");
    const res = await deps.clients.router.revertPolicy({ version: BigInt(b.version), reason: typeof b.reason === "string" ? b.reason : "" });
    return view(res.policy);
  });
}

function view(p: PolicyState | undefined) {
  return {
    version: Number(p?.version ?? 0n),
    reason: p?.reason ?? "",
    changed_at: p?.changedAt || null,
    overrides: JSON.parse(p?.overridesJson || "[]") as unknown,
    history: (p?.history ?? []).map((h) => ({ version: Number(h.version), reason: h.reason, created_at: h.createdAt, overrides: h.overrides })),
  };
}
