import { Decimal } from "decimal.js";
import { SPEND_GROUPS, type SpendGroup } from "#libs/config/closed-sets.ts";
import { nextUtcMidnight } from "../domain/since.ts";
import type { SqlClient } from "#libs/sql/sql-client.ts";

export const GROUP_BYS = SPEND_GROUPS;
export type GroupBy = SpendGroup;

export interface SpendQuery {
  tenantId?: string;
  since: Date;
  groupBy?: GroupBy;
}

export interface SpendRow {
  group: string;
  requests: number;
  unpriced_requests: number;
  input_tokens: number;
  cached_input_tokens: number;
  cache_write_tokens: number;
  output_tokens: number;
  /** Exact decimal USD strings. */
  cost_usd: string;
  baseline_usd: string;
  savings_usd: string;
  cache_savings_usd: string;
  routing_savings_usd: string;
  cascade_savings_usd: string;
  batch_savings_usd: string;
}

export interface SpendResult {
  total: SpendRow;
  rows: SpendRow[];
}

const MONEY = ["cost_usd", "baseline_usd", "savings_usd", "cache_savings_usd", "routing_savings_usd", "cascade_savings_usd", "batch_savings_usd"] as const;
const COUNTS = ["requests", "unpriced_requests", "input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens"] as const;

/** Groups the daily rollup does not keep: read from the requests table alone (short windows). */
const RAW_ONLY = ["policy", "hour", "cache", "cache_category", "tier_model", "route_outcome", "provider_status"] as const;
type RollupGroupBy = Exclude<GroupBy, (typeof RAW_ONLY)[number]>;
const ROLLUP_GROUP: Record<RollupGroupBy, string> = {
  tenant: "tenant_id", key: "key_id", model: "model", tier: "tier", category: "category", day: "day::text",
};
const RAW_GROUP: Record<GroupBy, string> = {
  ...ROLLUP_GROUP, day: "((completed_at AT TIME ZONE 'UTC')::date)::text",
  // "<version>:live" or "<version>:canary": a canary's cost beside the live version's.
  policy: "policy_version::text || CASE WHEN policy_canary THEN ':canary' ELSE ':live' END",
  // For the dashboard: spend over time, cache outcomes (by category), the routing mix, escalations, errors.
  hour: "to_char(date_trunc('hour', completed_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD\"T\"HH24:00:00\"Z\"')",
  cache: "cache_outcome",
  cache_category: "category || '|' || cache_outcome",
  tier_model: "tier || '|' || model",
  route_outcome: "CASE WHEN escalated THEN 'escalated' WHEN cascaded THEN 'cascade_verified' ELSE 'direct' END",
  provider_status: "CASE WHEN provider = '' THEN 'none' ELSE provider END || '|' || CASE WHEN http_status >= 400 THEN 'error' ELSE 'ok' END",
};

const RAW_MEASURES = `1 AS requests, CASE WHEN unpriced THEN 1 ELSE 0 END AS unpriced_requests, input_tokens,
  cached_input_tokens, cache_write_5m_tokens + cache_write_1h_tokens AS cache_write_tokens, output_tokens,
  ${MONEY.join(", ")}`;
const ROLLUP_MEASURES = [...COUNTS, ...MONEY].join(", ");

type RawRow = Record<string, string>;

/**
 * Spend report: whole UTC days come from the spend_daily rollup; only the partial first day
 * (when `since` is not a midnight) is read from the requests table, so the answer is exact
 * and fast at millions of rows.
 */
export class SpendReport {
  constructor(private readonly sql: SqlClient) {}

  async query(q: SpendQuery): Promise<SpendResult> {
    if (q.groupBy !== undefined && (RAW_ONLY as readonly string[]).includes(q.groupBy)) return this.queryRaw(q, RAW_GROUP[q.groupBy]);
    const groupBy = q.groupBy;
    const firstDay = nextUtcMidnight(q.since);
    const params: unknown[] = [firstDay.toISOString().slice(0, 10), q.since.toISOString(), firstDay.toISOString()];
    let tenantFilter = "";
    if (q.tenantId !== undefined) {
      params.push(q.tenantId);
      tenantFilter = ` AND tenant_id = $${params.length}`;
    }
    const gRollup = groupBy ? ROLLUP_GROUP[groupBy as RollupGroupBy] : "'all'";
    const gRaw = groupBy ? RAW_GROUP[groupBy] : "'all'";
    const sql = `
WITH src AS (
  SELECT ${gRollup} AS g, ${ROLLUP_MEASURES} FROM spend_daily WHERE day >= $1::date${tenantFilter}
  UNION ALL
  SELECT ${gRaw} AS g, ${RAW_MEASURES} FROM requests
   WHERE completed_at >= $2::timestamptz AND completed_at < $3::timestamptz${tenantFilter}
)
SELECT g, ${[...COUNTS, ...MONEY].map((c) => `sum(${c})::text AS ${c}`).join(", ")}
FROM src GROUP BY g ORDER BY ${groupBy === "day" ? "g" : "sum(cost_usd) DESC, g"}`;
    const { rows } = await this.sql.query<RawRow>(sql, params);
    const out = rows.map(toRow);
    return { total: sumRows(out), rows: groupBy ? out : [] };
  }

  /** Groups the rollup does not keep (policy arms) come from the requests table alone: short windows. */
  private async queryRaw(q: SpendQuery, group: string): Promise<SpendResult> {
    const params: unknown[] = [q.since.toISOString()];
    let tenantFilter = "";
    if (q.tenantId !== undefined) {
      params.push(q.tenantId);
      tenantFilter = ` AND tenant_id = $${params.length}`;
    }
    const sql = `
WITH src AS (SELECT ${group} AS g, ${RAW_MEASURES} FROM requests WHERE completed_at >= $1::timestamptz${tenantFilter})
SELECT g, ${[...COUNTS, ...MONEY].map((c) => `sum(${c})::text AS ${c}`).join(", ")} FROM src GROUP BY g ORDER BY g`;
    const out = (await this.sql.query<RawRow>(sql, params)).rows.map(toRow);
    return { total: sumRows(out), rows: out };
  }
}

function toRow(r: RawRow): SpendRow {
  const row: Record<string, string | number> = { group: r.g ?? "" };
  for (const c of COUNTS) row[c] = Number(r[c] ?? 0);
  for (const c of MONEY) row[c] = new Decimal(r[c] ?? 0).toFixed();
  return row as unknown as SpendRow;
}

function sumRows(rows: SpendRow[]): SpendRow {
  const total: Record<string, string | number> = { group: "total" };
  for (const c of COUNTS) total[c] = rows.reduce((s, r) => s + r[c], 0);
  for (const c of MONEY) total[c] = rows.reduce((s, r) => s.plus(r[c]), new Decimal(0)).toFixed();
  return total as unknown as SpendRow;
}
