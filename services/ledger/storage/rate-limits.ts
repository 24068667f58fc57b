// Rate limits in the `rate_limits` table (the durable truth), cached per tenant like budget limits,
// and joined to them for admission. A change bumps the tenant's limits version (shared by replicas
// in the mesh), so every replica's next reservation finds its cache outdated and reloads: a limit
// set through any edge applies on all of them at once, without a restart.
import type { ApplicableLimits, BudgetLimitSource, LimitsVersions } from "../domain/budget.ts";
import { RATE_FIELDS, type RateLimitRow, type RateLimitValues } from "../domain/rate-limit.ts";
import type { SqlClient } from "#libs/sql/sql-client.ts";

type Row = { tenant_id: string; key_id: string; requests_per_minute: string | null; tokens_per_minute: string | null; requests_per_day: string | null; tokens_per_day: string | null };

const SELECT = "SELECT tenant_id, key_id, requests_per_minute::text, tokens_per_minute::text, requests_per_day::text, tokens_per_day::text FROM rate_limits";

function valuesOf(r: Row): RateLimitValues {
  const out: RateLimitValues = {};
  for (const f of RATE_FIELDS) {
    const v = r[f];
    if (v !== null) out[f] = Number(v);
  }
  return out;
}

export class RateLimitRepo {
  private readonly cache = new Map<string, { at: number; version: number | undefined; rows: Row[] }>();

  constructor(
    private readonly sql: SqlClient,
    private readonly ttlMs = 5_000,
    private readonly versions?: LimitsVersions,
  ) {}

  /** Replaces a tenant's or a key's limits; no limit at all removes the row. */
  async set(r: RateLimitRow): Promise<void> {
    const vals = RATE_FIELDS.map((f) => r[f] ?? null);
    if (vals.every((v) => v === null)) {
      await this.sql.query("DELETE FROM rate_limits WHERE tenant_id = $1 AND key_id = $2", [r.tenantId, r.keyId]);
    } else {
      await this.sql.query(
        `INSERT INTO rate_limits (tenant_id, key_id, requests_per_minute, tokens_per_minute, requests_per_day, tokens_per_day) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (tenant_id, key_id) DO UPDATE SET requests_per_minute = excluded.requests_per_minute, tokens_per_minute = excluded.tokens_per_minute,
           requests_per_day = excluded.requests_per_day, tokens_per_day = excluded.tokens_per_day, updated_at = now()`,
        [r.tenantId, r.keyId, ...vals],
      );
    }
    this.cache.delete(r.tenantId);
    // After the write, as for budgets: a replica that sees the new version reads the new rows.
    await this.versions?.bump(r.tenantId).catch(() => undefined);
  }

  async list(tenantId?: string): Promise<RateLimitRow[]> {
    const { rows } = tenantId
      ? await this.sql.query<Row>(`${SELECT} WHERE tenant_id = $1 ORDER BY key_id`, [tenantId])
      : await this.sql.query<Row>(`${SELECT} ORDER BY tenant_id, key_id`);
    return rows.map((r) => ({ tenantId: r.tenant_id, keyId: r.key_id, ...valuesOf(r) }));
  }

  /**
   * The tenant's and the key's limits. `version` is the tenant's limits version the budget limits
   * were read at: rows cached at another version are reloaded (read after the version, so never
   * older than it).
   */
  async limitsFor(tenantId: string, keyId: string, version: number | undefined): Promise<NonNullable<ApplicableLimits["rates"]>> {
    let hit = this.cache.get(tenantId);
    if (!hit || hit.version !== version || Date.now() - hit.at >= this.ttlMs) {
      const { rows } = await this.sql.query<Row>(`${SELECT} WHERE tenant_id = $1`, [tenantId]);
      hit = { at: Date.now(), version, rows };
      if (this.cache.size >= 10_000) this.cache.clear();
      this.cache.set(tenantId, hit);
    }
    const out: NonNullable<ApplicableLimits["rates"]> = {};
    for (const r of hit.rows) {
      if (r.key_id === "") out.tenant = valuesOf(r);
      else if (r.key_id === keyId) out.key = valuesOf(r);
    }
    return out;
  }

  outdated(tenantId: string): void {
    this.cache.delete(tenantId);
  }
}

/**
 * Budget limits and rate limits together: what one reservation checks. A tenant or key with no row
 * of its own gets the configured default (config `rate_limits`; none = unlimited).
 */
export class AdmissionLimits implements BudgetLimitSource {
  private readonly defaults: { tenant?: RateLimitValues; key?: RateLimitValues };

  constructor(
    private readonly budgets: BudgetLimitSource,
    private readonly rates: RateLimitRepo,
    defaults: { tenant?: RateLimitValues; key?: RateLimitValues } = {},
  ) {
    const some = (v?: RateLimitValues) => (v && Object.values(v).some((x) => x !== undefined) ? v : undefined);
    const tenant = some(defaults.tenant);
    const key = some(defaults.key);
    this.defaults = { ...(tenant ? { tenant } : {}), ...(key ? { key } : {}) };
  }

  async limitsFor(tenantId: string, keyId: string): Promise<ApplicableLimits> {
    const l = await this.budgets.limitsFor(tenantId, keyId);
    const own = await this.rates.limitsFor(tenantId, keyId, l.version);
    const tenant = own.tenant ?? this.defaults.tenant;
    const key = own.key ?? this.defaults.key;
    return tenant || key ? { ...l, rates: { ...(tenant ? { tenant } : {}), ...(key ? { key } : {}) } } : l;
  }

  outdated(tenantId: string, version: number): void {
    this.budgets.outdated?.(tenantId, version);
    this.rates.outdated(tenantId);
  }
}
