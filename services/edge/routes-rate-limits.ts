// Admin REST for rate limits: PUT replaces a tenant's or a key's limits (requests and tokens per
// minute and per day; null or absent = no such limit), GET reads them (an admin, or a tenant key for
// its own tenant). Stored by the ledger in its database; every replica applies them on its next
// reservation, without a restart.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { errors } from "#libs/errors/openai-error.ts";
import type { RateLimits } from "#libs/gen/llmgw/ledger/v1/ledger_pb.ts";
import { isId, sinceParam } from "./input-values.ts";
import { adminOnly, type AuthContext } from "./auth.ts";
import type { EdgeDeps } from "./deps.ts";

const FIELDS = {
  requests_per_minute: "requestsPerMinute",
  tokens_per_minute: "tokensPerMinute",
  requests_per_day: "requestsPerDay",
  tokens_per_day: "tokensPerDay",
} as const;
type Field = keyof typeof FIELDS;
const MAX = 1_000_000_000_000;

type LimitsInit = Partial<Pick<RateLimits, (typeof FIELDS)[Field]>>;

/** The body's limits, each a whole number from 1 to 10^12 or null; anything else is a 400 naming it. */
export function parseLimits(body: unknown): LimitsInit {
  if (body === undefined || body === null) return {};
  if (typeof body !== "object" || Array.isArray(body)) throw errors.badRequest("The body must be a JSON object of limits.");
  const out: LimitsInit = {};
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    // Own properties only: `in` also finds toString, constructor... and took them for limits.
    if (!Object.hasOwn(FIELDS, k)) throw errors.badRequest(`Unknown limit '${k}' (one of ${Object.keys(FIELDS).join(", ")}).`, k);
    if (v === null) continue;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > MAX) throw errors.badRequest(`'${k}' must be a whole number from 1 to ${MAX}, or null for no limit.`, k);
    out[FIELDS[k as Field]] = BigInt(v);
  }
  return out;
}

function toJson(l: Pick<RateLimits, "tenantId" | "keyId"> & LimitsInit) {
  const out: Record<string, string | number | null> = { tenant_id: l.tenantId, key_id: l.keyId || null };
  for (const [k, f] of Object.entries(FIELDS)) {
    const v = l[f];
    out[k] = v === undefined ? null : Number(v);
  }
  return out;
}

export function registerRateLimitRoutes(app: FastifyInstance, deps: EdgeDeps, authenticate: (req: FastifyRequest) => Promise<AuthContext>): void {
  const admin = adminOnly(authenticate);
  const ledger = deps.clients.ledger;

  /** The key's tenant, from the ledger's key list (404 for an unknown or revoked key). */
  async function keyTenant(keyId: string, tenantHint?: string): Promise<string> {
    const res = await ledger.listKeys({ tenantId: tenantHint ?? "" });
    const k = res.keys.find((x) => x.keyId === keyId && !x.revoked);
    if (!k) throw errors.notFound(`No active key '${keyId}'.`);
    return k.tenantId;
  }

  app.put<{ Params: { id: string }; Body: unknown }>("/v1/llmgw/tenants/:id/limits", async (req) => {
    await admin(req);
    if (!isId(req.params.id)) throw errors.badRequest("The tenant id must be letters, digits, '.', '_' or '-'.", "tenant_id");
    const limits = { tenantId: req.params.id, keyId: "", ...parseLimits(req.body) };
    await ledger.setRateLimits({ limits });
    return toJson(limits);
  });

  app.put<{ Params: { id: string }; Body: unknown }>("/v1/llmgw/keys/:id/limits", async (req) => {
    await admin(req);
    if (!isId(req.params.id)) throw errors.notFound(`No active key '${req.params.id}'.`);
    const values = parseLimits(req.body);
    const limits = { tenantId: await keyTenant(req.params.id), keyId: req.params.id, ...values };
    await ledger.setRateLimits({ limits });
    return toJson(limits);
  });

  app.get<{ Params: { id: string } }>("/v1/llmgw/tenants/:id/limits", async (req) => {
    const who = await authenticate(req);
    if (!who.admin && who.tenantId !== req.params.id) throw errors.notFound(`No tenant '${req.params.id}'.`);
    const res = await ledger.listRateLimits({ tenantId: req.params.id });
    const own = res.limits.find((l) => l.keyId === "");
    return { ...toJson(own ?? { tenantId: req.params.id, keyId: "" }), keys: res.limits.filter((l) => l.keyId !== "").map(toJson) };
  });

  // Refused admissions as the ledger recorded them (an admin: any tenant; a tenant key: its own).
  app.get<{ Querystring: { since?: unknown; tenant_id?: unknown; limit?: unknown } }>("/v1/llmgw/refusals", async (req) => {
    const who = await authenticate(req);
    for (const k of ["since", "tenant_id", "limit"] as const) {
      if (req.query[k] !== undefined && typeof req.query[k] !== "string") throw errors.badRequest(`'${k}' must be given once.`, k);
    }
    const q = req.query as { since?: string; tenant_id?: string; limit?: string };
    const since = sinceParam(q.since, "24h");
    const limit = q.limit === undefined ? 100 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw errors.badRequest("'limit' must be a whole number from 1 to 1000.", "limit");
    const tenantId = who.admin ? (q.tenant_id ?? "") : who.tenantId;
    const res = await ledger.listRefusals({ tenantId, since: since.toISOString(), limit });
    return {
      object: "list",
      data: res.refusals.map((r) => ({ request_id: r.requestId, tenant_id: r.tenantId, key_id: r.keyId, reason: r.reason, limit: r.limitName, retry_after_ms: r.reason === "rate_limit" ? Number(r.retryAfterMs) : null, refused_at: r.refusedAt })),
    };
  });

  app.get<{ Params: { id: string } }>("/v1/llmgw/keys/:id/limits", async (req) => {
    const who = await authenticate(req);
    if (!isId(req.params.id)) throw errors.notFound(`No active key '${req.params.id}'.`);
    const tenantId = who.admin ? await keyTenant(req.params.id) : await keyTenant(req.params.id, who.tenantId);
    const res = await ledger.listRateLimits({ tenantId });
    const own = res.limits.find((l) => l.keyId === req.params.id);
    return toJson(own ?? { tenantId, keyId: req.params.id });
  });
}
