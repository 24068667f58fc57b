// Admin REST for the semantic cache's economics: per category, whether the semantic layer is on, its
// measured hit rate and the break-even the lookup's cost implies (as seen by the replica that answers).
import type { FastifyInstance, FastifyRequest } from "fastify";
import { adminOnly, type AuthContext } from "./auth.ts";
import type { EdgeDeps } from "./deps.ts";

export function registerCacheRoutes(app: FastifyInstance, deps: EdgeDeps, authenticate: (req: FastifyRequest) => Promise<AuthContext>): void {
  const admin = adminOnly(authenticate);

  app.get("/v1/llmgw/cache/economics", async (req) => {
    await admin(req);
    const res = await deps.clients.cache.getEconomics({});
    return {
      object: "list",
      data: res.categories.map((c) => ({
        category: c.category,
        semantic_on: c.semanticOn,
        lookups: Number(c.lookups),
        hits: Number(c.hits),
        hit_rate: c.hitRate,
        break_even_hit_rate: c.breakEvenHitRate,
        lookup_ms: c.lookupMs,
        switches: Number(c.switches),
      })),
    };
  });
}
