// Admin REST for the semantic cache: its economics (per category, whether the semantic layer is on, its
// measured hit rate and the break-even the lookup's cost implies: every replica's lookups when `pooled`)
// and its quality (per category, the wrong-hit rate the evaluator measured on audited hits).
import type { FastifyInstance, FastifyRequest } from "fastify";
import { adminOnly, type AuthContext } from "./auth.ts";
import type { EdgeDeps } from "./deps.ts";
import { sinceParam } from "./input-values.ts";

export function registerCacheRoutes(app: FastifyInstance, deps: EdgeDeps, authenticate: (req: FastifyRequest) => Promise<AuthContext>): void {
  const admin = adminOnly(authenticate);

  app.get("/v1/llmgw/cache/economics", async (req) => {
    await admin(req);
    const res = await deps.clients.cache.getEconomics({});
    return {
      object: "list",
      pooled: res.pooled,
      data: res.categories.map((c) => ({
        category: c.category,
        semantic_on: c.semanticOn,
        lookups: Number(c.lookups),
        hits: Number(c.hits),
        hit_rate: c.hitRate,
        break_even_hit_rate: c.breakEvenHitRate,
        lookup_ms: c.lookupMs,
        switches: Number(c.switches),
        quality_suspended: c.qualitySuspended,
        quality_floor: c.qualityFloor,
      })),
    };
  });

  // Audited semantic hits (routing.shadow.cache_audit_rate). Admin: any tenant or all; a tenant key: its own.
  app.get<{ Querystring: { since?: string; tenant_id?: string } }>("/v1/llmgw/cache/quality", async (req) => {
    const who = await authenticate(req);
    const since = sinceParam(req.query.since, "7d");
    const tenantId = who.admin ? (req.query.tenant_id ?? "") : who.tenantId;
    const res = await deps.clients.evaluator.getCacheQuality({ since: since.toISOString(), tenantId });
    return {
      object: "list",
      tenant_id: tenantId || null,
      since: since.toISOString(),
      audit_rate: deps.config.routing.shadow.cache_audit_rate,
      data: res.rows.map((r) => ({
        category: r.category,
        audits: Number(r.audits),
        wrong_hits: Number(r.wrong),
        wrong_hit_rate: r.wrongHitRate,
        wrong_hit_rate_low: r.low,
        wrong_hit_rate_high: r.high,
        // The cached answer judged against a fresh answer to its own question: the judge's floor.
        baseline_audits: Number(r.baselineAudits),
        baseline_wrong: Number(r.baselineWrong),
        baseline_wrong_rate_high: r.baselineHigh,
        // Audits at or above each similarity where audits start: what a similarity floor is chosen from.
        by_similarity: r.cuts.map((c) => ({ similarity_at_least: c.similarity, audits: Number(c.audits), wrong_hits: Number(c.wrong), wrong_hit_rate_high: c.high })),
        // Cached entries barred below the similarity an audit refuted them at (cache.quality.entryFloors).
        refuted_entries: Number(r.refutedEntries),
      })),
    };
  });
}
