// Everything the dashboard draws, in one document assembled from the services' own reports (the
// ledger's spend report for money, cache, routing and errors; the evaluator's shadow findings; the
// router's policy; the executor's breakers): no second source of truth. A tenant key gets its own
// tenant's figures and none of the operator-wide panels (policy, breakers, other tenants' budgets).
import type { SpendGroup } from "#libs/config/closed-sets.ts";
import type { SpendRow } from "#libs/gen/llmgw/ledger/v1/ledger_pb.ts";
import { tierName } from "#libs/rpc/tier.ts";
import type { EdgeClients } from "../deps.ts";

export interface DashboardQuery {
  since: Date;
  /** "" = all tenants (admin only). */
  tenantId: string;
  admin: boolean;
  now: Date;
}

interface Money {
  requests: number;
  cost_usd: number;
  baseline_usd: number;
  savings_usd: number;
}

const num = (s: string | undefined): number => Number(s || 0);
const money = (r: SpendRow | undefined): Money => ({ requests: Number(r?.requests ?? 0n), cost_usd: num(r?.costUsd), baseline_usd: num(r?.baselineUsd), savings_usd: num(r?.savingsUsd) });
const split = (g: string): [string, string] => {
  const i = g.indexOf("|");
  return i < 0 ? [g, ""] : [g.slice(0, i), g.slice(i + 1)];
};

export async function dashboardData(clients: EdgeClients, q: DashboardQuery) {
  const since = q.since.toISOString();
  const spend = (groupBy: SpendGroup | "", from = since, tenantId = q.tenantId) => clients.ledger.getSpend({ tenantId, since: from, groupBy });
  const dayStart = new Date(Date.UTC(q.now.getUTCFullYear(), q.now.getUTCMonth(), q.now.getUTCDate())).toISOString();
  const monthStart = new Date(Date.UTC(q.now.getUTCFullYear(), q.now.getUTCMonth(), 1)).toISOString();
  const [total, hours, cacheByCategory, tierModel, outcomes, providers, findings, budgets] = await Promise.all([
    spend(""),
    spend("hour"),
    spend("cache_category"),
    spend("tier_model"),
    spend("route_outcome"),
    spend("provider_status"),
    clients.evaluator.getDowngradeReport({ tenantId: q.tenantId }),
    clients.ledger.listBudgets({ tenantId: q.tenantId }),
  ]);

  const t = total.total;
  const byCategory = new Map<string, Record<string, number>>();
  const cacheTotals: Record<string, number> = {};
  for (const r of cacheByCategory.rows) {
    const [category, outcome] = split(r.group);
    const n = Number(r.requests);
    const row = byCategory.get(category || "unknown") ?? {};
    row[outcome || "unknown"] = (row[outcome || "unknown"] ?? 0) + n;
    byCategory.set(category || "unknown", row);
    cacheTotals[outcome || "unknown"] = (cacheTotals[outcome || "unknown"] ?? 0) + n;
  }
  const lookups = Object.entries(cacheTotals).filter(([o]) => o !== "bypass").reduce((s, [, n]) => s + n, 0);
  const hits = (cacheTotals.hit_exact ?? 0) + (cacheTotals.hit_semantic ?? 0);
  const routed = outcomes.rows.reduce((s, r) => s + Number(r.requests), 0);
  const escalated = Number(outcomes.rows.find((r) => r.group === "escalated")?.requests ?? 0n);
  const cascades = escalated + Number(outcomes.rows.find((r) => r.group === "cascade_verified")?.requests ?? 0n);

  // Budget use in the budget's own period, for the tenants (and keys) that have one.
  const periodSpend = async (period: string) => {
    const from = period === "month" ? monthStart : dayStart;
    const [byTenant, byKey] = await Promise.all([spend("tenant", from), spend("key", from)]);
    return { byTenant: new Map(byTenant.rows.map((r) => [r.group, num(r.costUsd)])), byKey: new Map(byKey.rows.map((r) => [r.group, num(r.costUsd)])) };
  };
  const periods = new Map<string, Awaited<ReturnType<typeof periodSpend>>>();
  for (const p of new Set(budgets.budgets.map((b) => b.period))) periods.set(p, await periodSpend(p));
  const budgetRows = budgets.budgets.map((b) => {
    const ps = periods.get(b.period);
    const spent = (b.keyId ? ps?.byKey.get(b.keyId) : ps?.byTenant.get(b.tenantId)) ?? 0;
    const hard = b.hardLimitUsd ? Number(b.hardLimitUsd) : null;
    const soft = b.softLimitUsd ? Number(b.softLimitUsd) : null;
    const limit = hard ?? soft;
    return { tenant_id: b.tenantId, key_id: b.keyId || null, period: b.period, soft_limit_usd: soft, hard_limit_usd: hard, spent_usd: spent, used: limit && limit > 0 ? spent / limit : null };
  });

  const [policy, health] = q.admin ? await Promise.all([clients.router.getPolicy({}), clients.executor.getHealth({})]) : [undefined, undefined];
  const p = policy?.policy;
  return {
    object: "llmgw.dashboard",
    since,
    generated_at: q.now.toISOString(),
    tenant_id: q.tenantId || null,
    scope: q.admin ? (q.tenantId ? "tenant (admin view)" : "all tenants") : "own tenant",
    spend: {
      total: money(t),
      savings_split: { cache_usd: num(t?.cacheSavingsUsd), routing_usd: num(t?.routingSavingsUsd), cascade_usd: num(t?.cascadeSavingsUsd), batch_usd: num(t?.batchSavingsUsd) },
      series: hours.rows.map((r) => ({ t: r.group, ...money(r) })),
    },
    cache: {
      hit_rate: lookups > 0 ? hits / lookups : null,
      outcomes: cacheTotals,
      by_category: [...byCategory.entries()].map(([category, o]) => ({ category, ...o })),
    },
    routing: {
      by_tier_model: tierModel.rows.map((r) => {
        const [tier, model] = split(r.group);
        return { tier, model, requests: Number(r.requests), cost_usd: num(r.costUsd) };
      }),
      outcomes: outcomes.rows.map((r) => ({ outcome: r.group, requests: Number(r.requests) })),
      escalation_rate: cascades > 0 ? escalated / cascades : null,
      requests: routed,
    },
    shadow: {
      findings: findings.findings.map((f) => ({ category: f.category, tier: tierName(f.tier), from_model: f.fromModel, to_model: f.toModel, samples: Number(f.samples), pass_rate: f.passRate, low: f.low, high: f.high, safe: f.safe })),
      policy: p ? { version: Number(p.version), reason: p.reason, changed_at: p.changedAt || null, canary: p.canary ? { version: Number(p.canary.version), share: p.canary.share, reason: p.canary.reason } : null, history: p.history.slice(0, 10).map((h) => ({ version: Number(h.version), reason: h.reason, created_at: h.createdAt, overrides: h.overrides })) } : null,
    },
    budgets: budgetRows,
    providers: {
      calls: providers.rows.map((r) => {
        const [provider, status] = split(r.group);
        return { provider, status, requests: Number(r.requests) };
      }),
      breakers: health ? health.deployments.map((d) => ({ model: d.model, state: d.state, in_flight: d.inFlight })) : null,
    },
  };
}

export type DashboardData = Awaited<ReturnType<typeof dashboardData>>;
