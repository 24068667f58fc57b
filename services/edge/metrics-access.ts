// /metrics on the edge's public port is not public: it answers a bearer token configured for the
// scraper (LLMGW_METRICS_TOKEN) or an admin API key, and 401/403 in the OpenAI shape otherwise.
// (The mesh's services keep /metrics on their own admin ports, which are not exposed.)
import { createHash, timingSafeEqual } from "node:crypto";
import { errors } from "#libs/errors/openai-error.ts";
import type { AuthContext } from "./auth.ts";

const digest = (s: string): Buffer => createHash("sha256").update(s).digest();

export function metricsAccess<R extends { headers: { authorization?: string | undefined } }>(
  token: string | undefined,
  authenticate: (req: R) => Promise<AuthContext>,
): (req: R) => Promise<void> {
  const want = token ? digest(token) : undefined;
  return async (req) => {
    const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization?.trim() ?? "");
    if (!m?.[1]) throw errors.unauthorized("/metrics needs 'Authorization: Bearer <metrics token or admin key>'.");
    // Equal-length digests: a constant-time comparison whatever the length of what was sent.
    if (want && timingSafeEqual(digest(m[1].trim()), want)) return;
    const who = await authenticate(req);
    if (!who.admin) throw errors.forbidden("/metrics needs the metrics token or an admin key.");
  };
}
