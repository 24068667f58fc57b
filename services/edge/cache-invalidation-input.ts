import { errors } from "#libs/errors/openai-error.ts";

export interface CacheInvalidationBody {
  tenant_id?: string;
  namespace?: unknown;
  model?: unknown;
  older_than?: unknown;
}

/**
 * The body of POST /v1/llmgw/cache/invalidate: absent, or a JSON object whose `tenant_id`, when
 * present, is a string. Anything else is a 400: read loosely, `[1]` or `{"tenant_id": 5}` fell back to
 * the caller's own tenant and wiped its cache.
 */
export function cacheInvalidationBody(body: unknown): CacheInvalidationBody {
  if (body === undefined || body === null) return {};
  if (typeof body !== "object" || Array.isArray(body)) throw errors.badRequest("The body must be a JSON object.");
  const b = body as Record<string, unknown>;
  if (b.tenant_id !== undefined && typeof b.tenant_id !== "string") throw errors.badRequest("'tenant_id' must be a string.", "tenant_id");
  return b as CacheInvalidationBody;
}

/**
 * The optional filters of POST /v1/llmgw/cache/invalidate: `model` (a string) and `older_than`
 * (seconds as a non-negative integer, or "30m" / "24h" / "7d"). Bad values are the client's error.
 */
export function cacheInvalidationFilters(body: { model?: unknown; older_than?: unknown }): { model: string; olderThanSeconds: bigint } {
  if (body.model !== undefined && (typeof body.model !== "string" || body.model === "")) throw errors.badRequest("'model' must be a non-empty string.", "model");
  let seconds = 0;
  const age = body.older_than;
  if (typeof age === "number") {
    if (!Number.isSafeInteger(age) || age < 0) throw errors.badRequest("'older_than' must be a non-negative whole number of seconds or a duration like 30m, 24h, 7d.", "older_than");
    seconds = age;
  } else if (typeof age === "string") {
    const m = /^(\d{1,9})\s*([smhd])$/i.exec(age.trim());
    if (!m) throw errors.badRequest("'older_than' must be a non-negative whole number of seconds or a duration like 30m, 24h, 7d.", "older_than");
    const unit = { s: 1, m: 60, h: 3600, d: 86_400 }[(m[2] ?? "s").toLowerCase() as "s" | "m" | "h" | "d"];
    seconds = Number(m[1]) * unit;
  } else if (age !== undefined) {
    throw errors.badRequest("'older_than' must be a non-negative whole number of seconds or a duration like 30m, 24h, 7d.", "older_than");
  }
  return { model: typeof body.model === "string" ? body.model : "", olderThanSeconds: BigInt(seconds) };
}
