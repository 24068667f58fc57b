import { Decimal } from "decimal.js";
import type { ApplicableLimits, BudgetLimitSource, BudgetPeriod, Limit, LimitsVersions } from "../domain/budget.ts";
import type { SqlClient } from "#libs/sql/sql-client.ts";

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

/** A tenant's rows as read, with their limits already normalised. */
interface TenantLimits {
  at: number;
  rows: Array<{ keyId: string; period: BudgetPeriod; limit: Limit }>;
  version?: number;
}

/** The tenant's and the key's limits out of a tenant's rows (fresh objects: callers own them). */
function applicable(t: TenantLimits, keyId: string): ApplicableLimits {
  const out: ApplicableLimits = { tenant: {}, key: {} };
  for (const r of t.rows) {
    if (r.keyId === "") out.tenant[r.period] = { ...r.limit };
    else if (r.keyId === keyId) out.key[r.period] = { ...r.limit };
  }
  if (t.version !== undefined) out.version = t.version;
  return out;
}

/**
 * Budget limits from the `budgets` table, cached per tenant (limits change rarely; admission is hot).
 * With `versions` (mesh: shared by replicas), a change bumps the tenant's version, the reservation
 * compares it atomically with the version the cached limits were read at, and an outdated cache is
 * reloaded (Budgets retries): a change made through any replica applies at once on all of them.
 * The TTL then only bounds staleness when the bump itself failed (Redis down during the change).
 */
export class BudgetLimitRepo implements BudgetLimitSource {
  private readonly cache = new Map<string, TenantLimits>();
  /** Versions the store reported for outdated tenants: the reload uses them instead of a GET. */
  private readonly known = new Map<string, number>();

  constructor(
    private readonly sql: SqlClient,
    private readonly ttlMs = 30_000,
    private readonly versions?: LimitsVersions,
  ) {}

  limitsFor(tenantId: string, keyId: string): Promise<ApplicableLimits> {
    // A fresh cache entry (nearly every admission) answers without going through tenantRows' awaits.
    const hit = this.cache.get(tenantId);
    if (hit && Date.now() - hit.at < this.ttlMs) return Promise.resolve(applicable(hit, keyId));
    return this.tenantRows(tenantId).then((t) => applicable(t, keyId));
  }

  outdated(tenantId: string, version: number): void {
    const hit = this.cache.get(tenantId);
    if (hit && hit.version !== undefined && hit.version >= version) return;
    this.cache.delete(tenantId);
    this.known.set(tenantId, Math.max(version, this.known.get(tenantId) ?? 0));
  }

  async set(b: BudgetRow): Promise<void> {
    await this.sql.query(
      `INSERT INTO budgets (tenant_id, key_id, period, soft_limit_usd, hard_limit_usd) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (tenant_id, key_id, period) DO UPDATE SET soft_limit_usd = excluded.soft_limit_usd,
         hard_limit_usd = excluded.hard_limit_usd, updated_at = now()`,
      [b.tenantId, b.keyId, b.period, b.softUsd ?? null, b.hardUsd ?? null],
    );
    this.cache.delete(b.tenantId);
    // After the write, so a replica that sees the new version reads the new rows. The row is the
    // truth: if Redis is down the change still lands, and other replicas pick it up within the TTL.
    await this.versions?.bump(b.tenantId).catch(() => undefined);
  }

  async list(tenantId?: string): Promise<BudgetRow[]> {
    const { rows } = tenantId
      ? await this.sql.query<Row>(`${SELECT} WHERE tenant_id = $1 ORDER BY tenant_id, key_id, period`, [tenantId])
      : await this.sql.query<Row>(`${SELECT} ORDER BY tenant_id, key_id, period`);
    return rows.map((r) => ({ tenantId: r.tenant_id, keyId: r.key_id, period: r.period, ...limitOf(r) }));
  }

  private async tenantRows(tenantId: string): Promise<TenantLimits> {
    const hit = this.cache.get(tenantId);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit;
    // Version first, rows second: a change landing in between leaves old version + new rows,
    // which the next reservation finds outdated and reloads (never new version + old rows).
    const version = this.known.get(tenantId) ?? (await this.readVersion(tenantId));
    let rows: Row[];
    try {
      ({ rows } = await this.sql.query<Row>(`${SELECT} WHERE tenant_id = $1`, [tenantId]));
    } catch (e) {
      // Database unreachable or timed out: admission keeps the limits it read last (stale beats
      // none, and none would refuse every request of the tenant); never read yet, the error stands.
      if (hit) return hit;
      throw e;
    }
    this.known.delete(tenantId);
    // Limits read once per load, not per admission.
    const entry: TenantLimits = { at: Date.now(), rows: rows.map((r) => ({ keyId: r.key_id, period: r.period, limit: limitOf(r) })), ...(version !== undefined ? { version } : {}) };
    this.cache.set(tenantId, entry);
    return entry;
  }

  /** Redis down: no version, so the reservation is unguarded (it will fail fast on its own). */
  private async readVersion(tenantId: string): Promise<number | undefined> {
    if (!this.versions) return undefined;
    try {
      return await this.versions.version(tenantId);
    } catch {
      return undefined;
    }
  }
}

const SELECT = "SELECT tenant_id, key_id, period, soft_limit_usd::text AS soft, hard_limit_usd::text AS hard FROM budgets";
