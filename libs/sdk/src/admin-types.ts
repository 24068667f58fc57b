// The gateway's admin REST shapes (services/edge/routes-admin.ts, routes-cache.ts, routes-policy.ts, routes-shadow.ts).

export interface CreatedKey {
  id: string;
  /** The secret: shown once, never again. */
  key: string;
  tenant_id: string;
}

export interface KeyInfo {
  id: string;
  tenant_id: string;
  name: string;
  admin: boolean;
  prefix: string;
  created_at: string;
  revoked: boolean;
}

export interface List<T> {
  object: "list";
  data: T[];
}

export type BudgetPeriod = "day" | "month";

export interface BudgetInput {
  tenant_id: string;
  /** A key's own budget inside the tenant's; omit for the tenant's. */
  key_id?: string;
  period: BudgetPeriod;
  /** USD as a decimal string or number; omit for none. */
  soft_limit_usd?: string | number;
  hard_limit_usd?: string | number;
}

export interface Budget {
  tenant_id: string;
  key_id: string | null;
  period: BudgetPeriod;
  soft_limit_usd: number | null;
  hard_limit_usd: number | null;
}

export type SpendGroup = "tenant" | "key" | "model" | "tier" | "category" | "day";

export interface SpendQuery {
  /** ISO-8601 time or a duration back from now: "7d", "24h", "30m" (default 30d). */
  since?: string;
  group_by?: SpendGroup;
  /** Admin keys only; a tenant key always sees its own tenant. */
  tenant_id?: string;
}

export interface SavingsBreakdown {
  cache_usd: number;
  routing_usd: number;
  cascade_usd: number;
  batch_usd: number;
}

export interface SpendRow {
  requests: number;
  cost_usd: number;
  baseline_usd: number;
  savings_usd: number;
  savings: SavingsBreakdown;
}

export interface SpendReport {
  since: string;
  group_by: SpendGroup | null;
  tenant_id: string | null;
  total: SpendRow;
  /** One per group; the group's value is under the group_by name (or "group"). */
  rows: (SpendRow & Record<string, string | number | SavingsBreakdown>)[];
}

export interface SavingsReport {
  since: string;
  tenant_id: string | null;
  baseline_usd: number;
  cost_usd: number;
  savings_usd: number;
  /** savings / baseline, 0 when nothing was spent. */
  savings_rate: number;
  by_cause: SavingsBreakdown;
}

export interface CacheInvalidation {
  tenant_id: string;
  removed: number;
}

/** Audited semantic cache hits of one category (GET /v1/llmgw/cache/quality). */
export interface CacheQualityRow {
  category: string;
  audits: number;
  wrong_hits: number;
  wrong_hit_rate: number;
  /** Wilson 95% interval of the wrong-hit rate. */
  wrong_hit_rate_low: number;
  wrong_hit_rate_high: number;
  /** Audits whose baseline ran (the cached question replayed), those where the judge still said wrong, and the upper end of that rate's Wilson 95% interval: the judge's floor. */
  baseline_audits: number;
  baseline_wrong: number;
  baseline_wrong_rate_high: number;
  /** The audits at or above each similarity where audits start (hundredths), ascending: what the cache's similarity floor is chosen from. */
  by_similarity: { similarity_at_least: number; audits: number; wrong_hits: number; wrong_hit_rate_high: number }[];
  /** Cached entries an audit refuted (the judge accepting the cached answer for its own question): each serves only above the similarity it was refuted at. */
  refuted_entries: number;
}

export interface CacheQuality {
  object: "list";
  tenant_id: string | null;
  since: string;
  /** routing.shadow.cache_audit_rate: the share of semantic hits audited. */
  audit_rate: number;
  data: CacheQualityRow[];
}

export interface ShadowFinding {
  category: string;
  tier: string;
  from_model: string;
  to_model: string;
  samples: number;
  /** Share of replays whose answer agreed with the served one. */
  pass_rate: number;
  /** Enough evidence that the cheaper model is as good here. */
  safe: boolean;
}

export interface ShadowReport {
  object: "list";
  tenant_id: string | null;
  data: ShadowFinding[];
}

export interface PolicyVersion {
  version: number;
  reason: string;
  created_at: string;
  overrides: unknown;
}

export interface Policy {
  version: number;
  reason: string;
  changed_at: string | null;
  overrides: unknown;
  history: PolicyVersion[];
}

export type PolicyInput = { overrides: unknown[]; reason?: string } | { yaml: string; reason?: string };
