// npm run analyze -- [--since 7d] [--out DIR] [--alpha A] [--margin D] [--min-n N] [--correction holm|bh]
// The nightly analysis: shadow-test verdicts (shadow_results) → per (category, tier, served →
// candidate) pass rates with Wilson intervals, a non-inferiority test corrected for many cells, a
// decision, projected monthly savings from the ledger's volumes, and three files: a Markdown report,
// a JSON report and a reviewable YAML patch of routing overrides. Reads the database in the
// environment (DATABASE_URL / LLMGW_DATABASE_URL; else the embedded PGlite under LLMGW_DATA_DIR).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Command } from "commander";
import { isMember, TIER_NAMES, type TierName } from "#libs/config/closed-sets.ts";
import { loadConfig } from "#libs/config/load.ts";
import { embeddedDatabaseUrl, readSettings } from "#libs/config/settings.ts";
import { computeCost, loadPriceTable, usage } from "#libs/pricing/index.ts";
import { openDatabase } from "#libs/sql/open-database.ts";
import { requireSince } from "#libs/time/since.ts";
import { analyzeShadowTests, overridesPatchYaml, renderMarkdown, type MonthlyVolume, type ShadowTestResult } from "../domain/analysis/index.ts";
import { EVALUATOR_MIGRATIONS } from "../storage/migrations.ts";
import { ShadowResultStore } from "../storage/shadow-results.ts";

const o = new Command()
  .name("analyze")
  .description("Nightly analysis of shadow tests: where the cheaper model is safe, with the evidence")
  .option("--since <when>", "window start: ISO time or 7d / 24h", "7d")
  .option("--out <dir>", "where the reports go", "reports")
  .option("--tenant <id>", "only this tenant's shadow tests")
  .option("--alpha <a>", "family-wise error rate (Holm) or FDR (BH)", "0.05")
  .option("--margin <d>", "non-inferiority margin: the cheap answer must agree at least 1 - d of the time", "0.1")
  .option("--min-n <n>", "fewest tests per cell for a decision", "30")
  .option("--correction <c>", "holm | bh", "holm")
  .option("--database-url <url>", "postgres://... or pglite:<dir>")
  .option("--schema <schema>", "PostgreSQL schema")
  .option("--apply", "make the patch the live routing policy through the gateway's admin API (--gateway, --key)")
  .option("--canary <share>", "with --apply: run the patch as a canary on this share of sessions (0..1] instead of making it live")
  .option("--promote", "make the running canary live for all traffic, then exit")
  .option("--revert <version>", "make an earlier policy version live again (0: the configured overrides), then exit")
  .option("--gateway <url>", "the gateway for --apply/--revert", "http://127.0.0.1:8080")
  .option("--key <key>", "an admin key for --apply/--revert (default: LLMGW_API_KEY)")
  .parse()
  .opts<{ since: string; out: string; tenant?: string; alpha: string; margin: string; minN: string; correction: string; databaseUrl?: string; schema?: string; apply?: boolean; canary?: string; promote?: boolean; revert?: string; gateway: string; key?: string }>();

/** The policy admin API: the router stores the version and every replica reloads it. */
async function policyCall(path: string, body: unknown): Promise<{ version: number; reason: string; canary: { version: number; share: number } | null }> {
  const key = o.key ?? readSettings(process.env).bootstrapApiKey;
  if (!key) throw new Error("--apply/--revert need an admin key (--key or LLMGW_API_KEY)");
  const r = await fetch(`${o.gateway.replace(/\/$/, "")}${path}`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  const text = await r.text();
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status} ${text}`);
  return JSON.parse(text) as { version: number; reason: string; canary: { version: number; share: number } | null };
}

const canaryShare = o.canary === undefined ? 0 : Number(o.canary);
if (!Number.isFinite(canaryShare) || canaryShare < 0 || canaryShare > 1) throw new Error("--canary must be a share in (0, 1]");

if (o.promote) {
  const live = await policyCall("/v1/llmgw/policy/canary/promote", { reason: "promoted by analyze --promote" });
  process.stdout.write(`canary promoted: routing policy version ${live.version} is live (${live.reason})\n`);
  process.exit(0);
}

if (o.revert !== undefined) {
  const live = await policyCall("/v1/llmgw/policy/revert", { version: Number(o.revert), reason: `revert by analyze --revert ${o.revert}` });
  process.stdout.write(`routing policy version ${live.version} is live (${live.reason})\n`);
  process.exit(0);
}

const now = new Date();
const since = requireSince(o.since, now);
const settings = readSettings(process.env);
const config = loadConfig({ env: process.env });
const prices = loadPriceTable(settings.pricesFile);
const db = await openDatabase(o.databaseUrl ?? settings.databaseUrl ?? embeddedDatabaseUrl(settings), { ...(o.schema ? { schema: o.schema } : {}), migrations: [EVALUATOR_MIGRATIONS] });
try {
  const store = new ShadowResultStore(db.sql);
  const rows = await store.since(since);
  const results: ShadowTestResult[] = rows.flatMap((r) =>
    isMember(TIER_NAMES, r.tier) ? [{ tenantId: r.tenantId, category: r.category, tier: r.tier, servedModel: r.servedModel, candidateModel: r.candidateModel, ok: r.ok, score: r.score, candidateCostUsd: r.candidateCostUsd, createdAt: r.createdAt }] : [],
  );
  // Volumes from the ledger's requests in the same window, scaled to 30 days; token profile per cell.
  const days = Math.max(1 / 24, (now.getTime() - since.getTime()) / 86_400_000);
  const vol = await db.sql
    .query<{ category: string; tier: string; model: string; n: string; cost: string; input: string; output: string }>(
      `SELECT category, tier, model, count(*)::text AS n, sum(cost_usd)::text AS cost, avg(input_tokens)::text AS input, avg(output_tokens)::text AS output
       FROM requests WHERE completed_at >= $1 AND http_status = 200 GROUP BY category, tier, model`,
      [since.toISOString()],
    )
    .catch(() => ({ rows: [] as { category: string; tier: string; model: string; n: string; cost: string; input: string; output: string }[] }));
  const scale = 30 / days;
  const profile = new Map<string, { input: number; output: number }>();
  const volumes: MonthlyVolume[] = vol.rows.flatMap((v) => {
    const tier = v.tier.toUpperCase();
    if (!isMember(TIER_NAMES, tier)) return [];
    profile.set(`${v.category}|${tier}|${v.model}`, { input: Number(v.input), output: Number(v.output) });
    return [{ category: v.category, tier: tier as TierName, servedModel: v.model, requests: Math.round(Number(v.n) * scale), costUsd: Number(v.cost) * scale }];
  });
  const report = analyzeShadowTests({
    results,
    volumes,
    generatedAt: now,
    since,
    until: now,
    ...(o.tenant ? { tenantId: o.tenant } : {}),
    params: { alpha: Number(o.alpha), margin: Number(o.margin), minN: Number(o.minN), correction: o.correction === "bh" ? "bh" : "holm" },
    // The candidate priced on the served traffic's own token profile.
    projectedCost: (model, requests, cell) => {
      const p = profile.get(`${cell.category}|${cell.tier}|${cell.servedModel}`);
      if (!p) return Number.NaN;
      const c = computeCost(prices, usage({ inputTokens: Math.round(p.input), outputTokens: Math.round(p.output) }), model, now);
      return c.unpriced ? Number.NaN : Number(c.costUsd) * requests;
    },
  });
  mkdirSync(o.out, { recursive: true });
  const stamp = now.toISOString().slice(0, 10);
  const files = { md: join(o.out, `analysis-${stamp}.md`), json: join(o.out, `analysis-${stamp}.json`), yaml: join(o.out, `routing-overrides-${stamp}.yaml`) };
  writeFileSync(files.md, renderMarkdown(report));
  writeFileSync(files.json, JSON.stringify(report, null, 2));
  writeFileSync(files.yaml, overridesPatchYaml(report, { configPath: "deploy/config/llmgw.yaml" }));
  const s = report.summary;
  process.stdout.write(`${rows.length} shadow tests since ${since.toISOString()} (${config.routing.shadow.sample_rate * 100}% sampled); ${JSON.stringify(s)}\n`);
  process.stdout.write(`wrote ${files.md}\n      ${files.json}\n      ${files.yaml}\n`);
  // The semantic cache's audits (routing.shadow.cache_audit_rate) are not downgrade evidence: reported apart.
  const audits = await store.cacheQuality(since, o.tenant ?? "");
  const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
  if (audits.length > 0) process.stdout.write(`cache audits since ${since.toISOString()}: ${audits.map((a) => `${a.category} ${a.wrong}/${a.audits} wrong (${pct(a.wrongHitRate)}, 95% ${pct(a.low)}-${pct(a.high)})${a.baselineAudits > 0 ? `, baseline ${a.baselineWrong}/${a.baselineAudits} wrong` : ""}`).join("; ")}\n`);
  if (o.apply) {
    const live = await policyCall("/v1/llmgw/policy", { yaml: readFileSync(files.yaml, "utf8"), reason: `nightly analysis ${stamp}: ${s.downgrade} downgrade(s), ${s.overrides} override(s)`, canary_share: canaryShare });
    if (live.canary) process.stdout.write(`applied as a canary: version ${live.canary.version} routes ${live.canary.share * 100}% of sessions; version ${live.version} stays live (GET /v1/llmgw/policy/canary compares them)\n`);
    else process.stdout.write(`applied: routing policy version ${live.version} is live (${live.reason})\n`);
  }
} finally {
  await db.close();
}

