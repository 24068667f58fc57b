import { Decimal } from "decimal.js";
import type { ApplicableLimits, BudgetLimitSource, BudgetPeriod, Limit } from "../domain/budget.ts";
import type { SqlClient } from "./sql-client.ts";

export interface BudgetRow {
  tenantId: string;
  /** "" = tenant-wide. */
  keyId: string;
  period: BudgetPeriod;
  softUsd?: string;
  hardUsd?: string;
}

type Row = { tenant_id: string; key_id: string; period: BudgetPeriod; soft: string | null; hard: string | null };
const limitOf = (r: Row): Limit => ({
  ...(r.soft !== null ? { softUsd: new Decimal(r.soft).toFixed() } : {}),
  ...(r.hard !== null ? { hardUsd: new Decimal(r.hard).toFixed() } : {}),
});

/** Budget limits from the `budgets` table, cached per tenant (limits change rarely; admission is hot). */
export class BudgetLimitRepo implements BudgetLimitSource {
  private readonly cache = new Map<string, { at: number; rows: Row[] }>();

  constructor(
    private readonly sql: SqlClient,
    private readonly ttlMs = 30_000,
  ) {}

  async limitsFor(tenantId: string, keyId: string): Promise<ApplicableLimits> {
    const rows = await this.tenantRows(tenantId);
    const out: ApplicableLimits = { tenant: {}, key: {} };
    for (const r of rows) {
      if (r.key_id === "") out.tenant[r.period] = limitOf(r);
      else if (r.key_id === keyId) out.key[r.period] = limitOf(r);
    }
    return out;
  }

  async set(b: BudgetRow): Promise<void> {
    await this.sql.query(
      `INSERT INTO budgets (tenant_id, key_id, period, soft_limit_usd, hard_limit_usd) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (tenant_id, key_id, period) DO UPDATE SET soft_limit_usd = excluded.soft_limit_usd,
         hard_limit_usd = excluded.hard_limit_usd, updated_at = now()`,
      [b.tenantId, b.keyId, b.period, b.softUsd ?? null, b.hardUsd ?? null],
    );
    this.cache.delete(b.tenantId);
  }

  async list(tenantId?: string): Promise<BudgetRow[]> {
    const { rows } = tenantId
      ? await this.sql.query<Row>(`${SELECT} WHERE tenant_id = $1 ORDER BY tenant_id, key_id, period`, [tenantId])
      : await this.sql.query<Row>(`${SELECT} ORDER BY tenant_id, key_id, period`);
    return rows.map((r) => ({ tenantId: r.tenant_id, keyId: r.key_id, period: r.period, ...limitOf(r) }));
  }

  private async tenantRows(tenantId: string): Promise<Row[]> {
    const hit = this.cache.get(tenantId);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.rows;
    const { rows } = await this.sql.query<Row>(`${SELECT} WHERE tenant_id = $1`, [tenantId]);
    this.cache.set(tenantId, { at: Date.now(), rows });
    return rows;
  }
}

const SELECT = "SELECT tenant_id, key_id, period, soft_limit_usd::text AS soft, hard_limit_usd::text AS hard FROM budgets";
