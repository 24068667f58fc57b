// Admin REST: keys (admin key only), spend reports (admin, or a tenant key for its own tenant),
// cache invalidation. Policy lives here and in config, never in request headers.
import { SPEND_GROUPS } from "#libs/config/closed-sets.ts";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { errors } from "#libs/errors/openai-error.ts";
import { adminOnly, type AuthContext } from "./auth.ts";
import { cacheInvalidationBody, cacheInvalidationFilters } from "./cache-invalidation-input.ts";
import type { EdgeDeps } from "./deps.ts";
import { checkSoftUnderHard, isId, parseUsd, sinceParam, tenantIdParam } from "./input-values.ts";

const GROUPS = new Set<string>(["", ...SPEND_GROUPS]);

export function registerAdminRoutes(
  app: FastifyInstance,
  deps: EdgeDeps,
  authenticate: (req: FastifyRequest) => Promise<AuthContext>,
  onRevoked: (keyId: string) => void,
): void {
  const admin = adminOnly(authenticate);

  app.post<{ Body: { tenant_id?: unknown; name?: unknown; admin?: unknown } | undefined }>("/v1/llmgw/keys", async (req, reply) => {
    await admin(req);
    const b = req.body ?? {};
    const tenantId = tenantIdParam(b.tenant_id);
    if (b.name !== undefined && typeof b.name !== "string") throw errors.badRequest("'name' must be a string.", "name");
    if (b.admin !== undefined && typeof b.admin !== "boolean") throw errors.badRequest("'admin' must be a boolean.", "admin");
    const res = await deps.clients.ledger.createKey({ tenantId, name: typeof b.name === "string" ? b.name : "", admin: b.admin === true });
    reply.code(201);
    return { id: res.keyId, key: res.key, tenant_id: tenantId };
  });

  app.get<{ Querystring: { tenant_id?: string } }>("/v1/llmgw/keys", async (req) => {
    await admin(req);
    const res = await deps.clients.ledger.listKeys({ tenantId: req.query.tenant_id ?? "" });
    return {
      object: "list",
      data: res.keys.map((k) => ({ id: k.keyId, tenant_id: k.tenantId, name: k.name, admin: k.admin, prefix: k.prefix, created_at: k.createdAt, revoked: k.revoked })),
    };
  });

  app.delete<{ Params: { id: string } }>("/v1/llmgw/keys/:id", async (req) => {
    await admin(req);
    const res = await deps.clients.ledger.revokeKey({ keyId: req.params.id });
    if (!res.revoked) throw errors.notFound(`No active key '${req.params.id}'.`);
    onRevoked(req.params.id);
    return { id: req.params.id, revoked: true };
  });

  app.put<{ Body: { tenant_id?: unknown; key_id?: unknown; period?: unknown; soft_limit_usd?: unknown; hard_limit_usd?: unknown } | undefined }>("/v1/llmgw/budgets", async (req) => {
    await admin(req);
    const b = req.body ?? {};
    const tenantId = tenantIdParam(b.tenant_id);
    if (b.key_id !== undefined && !isId(b.key_id)) throw errors.badRequest("'key_id' must be a key id (letters, digits, '.', '_', '-'; at most 64).", "key_id");
    if (b.period !== "day" && b.period !== "month") throw errors.badRequest("'period' must be 'day' or 'month'.", "period");
    const budget = { tenantId, keyId: b.key_id ?? "", period: b.period, softLimitUsd: parseUsd(b.soft_limit_usd, "soft_limit_usd"), hardLimitUsd: parseUsd(b.hard_limit_usd, "hard_limit_usd") };
    checkSoftUnderHard(budget.softLimitUsd, budget.hardLimitUsd, "soft_limit_usd", "hard_limit_usd");
    // A budget on a key the tenant does not have would never apply: refuse it rather than store it.
    if (budget.keyId) {
      const keys = await deps.clients.ledger.listKeys({ tenantId });
      if (!keys.keys.some((k) => k.keyId === budget.keyId && k.tenantId === tenantId && !k.revoked)) throw errors.badRequest(`Tenant '${tenantId}' has no active key '${budget.keyId}'.`, "key_id");
    }
    await deps.clients.ledger.setBudget({ budget });
    return { tenant_id: budget.tenantId, key_id: budget.keyId || null, period: budget.period, soft_limit_usd: budget.softLimitUsd ? Number(budget.softLimitUsd) : null, hard_limit_usd: budget.hardLimitUsd ? Number(budget.hardLimitUsd) : null };
  });

  app.get<{ Querystring: { tenant_id?: string } }>("/v1/llmgw/budgets", async (req) => {
    const who = await authenticate(req);
    const res = await deps.clients.ledger.listBudgets({ tenantId: who.admin ? (req.query.tenant_id ?? "") : who.tenantId });
    return { object: "list", data: res.budgets.map((b) => ({ tenant_id: b.tenantId, key_id: b.keyId || null, period: b.period, soft_limit_usd: b.softLimitUsd ? Number(b.softLimitUsd) : null, hard_limit_usd: b.hardLimitUsd ? Number(b.hardLimitUsd) : null })) };
  });

  app.get<{ Querystring: { since?: string; group_by?: string; tenant_id?: string } }>("/v1/llmgw/spend", async (req) => {
    const who = await authenticate(req);
    const groupBy = req.query.group_by ?? "";
    if (!GROUPS.has(groupBy)) throw errors.badRequest(`'group_by' must be one of ${[...GROUPS].filter(Boolean).join(", ")}.`, "group_by");
    const since = sinceParam(req.query.since, "30d");
    // A tenant key sees only its own tenant, whatever it asks for.
    const tenantId = who.admin ? (req.query.tenant_id ?? "") : who.tenantId;
    const res = await deps.clients.ledger.getSpend({ tenantId, since: since.toISOString(), groupBy });
    const row = (r: { group: string; requests: bigint; costUsd: string; baselineUsd: string; savingsUsd: string; cacheSavingsUsd: string; routingSavingsUsd: string; cascadeSavingsUsd: string; batchSavingsUsd: string }) => ({
      requests: Number(r.requests),
      cost_usd: Number(r.costUsd || 0),
      baseline_usd: Number(r.baselineUsd || 0),
      savings_usd: Number(r.savingsUsd || 0),
      savings: {
        cache_usd: Number(r.cacheSavingsUsd || 0),
        routing_usd: Number(r.routingSavingsUsd || 0),
        cascade_usd: Number(r.cascadeSavingsUsd || 0),
        batch_usd: Number(r.batchSavingsUsd || 0),
      },
    });
    return {
      since: since.toISOString(),
      group_by: groupBy || null,
      tenant_id: tenantId || null,
      total: res.total ? row(res.total) : row({ group: "", requests: 0n, costUsd: "0", baselineUsd: "0", savingsUsd: "0", cacheSavingsUsd: "0", routingSavingsUsd: "0", cascadeSavingsUsd: "0", batchSavingsUsd: "0" }),
      rows: res.rows.map((r) => ({ [groupBy || "group"]: r.group, ...row(r) })),
    };
  });

  app.post<{ Body: unknown }>("/v1/llmgw/cache/invalidate", async (req) => {
    const who = await authenticate(req);
    const b = cacheInvalidationBody(req.body);
    const tenantId = who.admin && b.tenant_id !== undefined ? b.tenant_id : who.tenantId;
    if (b.namespace !== undefined && typeof b.namespace !== "string") throw errors.badRequest("'namespace' must be a string.", "namespace");
    const res = await deps.clients.cache.invalidate({ tenantId, namespace: typeof b.namespace === "string" ? b.namespace : "", ...cacheInvalidationFilters(b) });
    return { tenant_id: tenantId, removed: Number(res.removed) };
  });
}
