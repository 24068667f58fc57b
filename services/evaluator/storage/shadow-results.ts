// Shadow test results in PostgreSQL (PGlite embedded), and the daily shadow-spend cap.
import type { SqlClient } from "#libs/sql/sql-client.ts";
import { DEFAULT_DOWNGRADE_POLICY, wilsonLower, type DowngradePolicy, type Finding } from "../domain/downgrade.ts";

export interface ShadowResultRow {
  requestId: string;
  candidateModel: string;
  tenantId: string;
  category: string;
  tier: string;
  servedModel: string;
  ok: boolean;
  score: number;
  failures: string[];
  /** Every scorer's verdict, as recorded. */
  verdicts: unknown[];
  /** Null when the candidate model has no price (unknown, never 0). */
  candidateCostUsd: string | null;
}

export class ShadowResultStore {
  constructor(private readonly sql: SqlClient) {}

  async has(requestId: string, candidateModel: string): Promise<boolean> {
    const r = await this.sql.query<{ one: number }>("SELECT 1 AS one FROM shadow_results WHERE request_id = $1 AND candidate_model = $2", [requestId, candidateModel]);
    return r.rows.length > 0;
  }

  /**
   * Takes `usd` of today's shadow budget if it fits under `capUsd` (spent + reserved + usd ≤ cap),
   * atomically: replicas racing for the last dollars cannot both pass. False when it does not fit.
   */
  async reserve(day: string, usd: string, capUsd: string): Promise<boolean> {
    await this.sql.query("INSERT INTO shadow_spend_daily (day) VALUES ($1::date) ON CONFLICT (day) DO NOTHING", [day]);
    const r = await this.sql.query<{ day: string }>(
      "UPDATE shadow_spend_daily SET reserved_usd = reserved_usd + $2::numeric WHERE day = $1::date AND spent_usd + reserved_usd + $2::numeric <= $3::numeric RETURNING day::text",
      [day, usd, capUsd],
    );
    return r.rows.length > 0;
  }

  /** Gives a reservation back (the replay failed and will be retried, or was not needed). */
  async release(day: string, usd: string): Promise<void> {
    await this.sql.query("UPDATE shadow_spend_daily SET reserved_usd = GREATEST(0, reserved_usd - $2::numeric) WHERE day = $1::date", [day, usd]);
  }

  /** Records the verdict and turns the reservation into spend, in one transaction. False if it was already recorded. */
  async record(row: ShadowResultRow, spend: { day: string; reservedUsd: string } | undefined): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      const r = await tx.query<{ request_id: string }>(
        `INSERT INTO shadow_results (request_id, candidate_model, tenant_id, category, tier, served_model, ok, score, failures, verdicts, candidate_cost_usd)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::jsonb, $11::numeric)
         ON CONFLICT (request_id, candidate_model) DO NOTHING RETURNING request_id`,
        [row.requestId, row.candidateModel, row.tenantId, row.category, row.tier, row.servedModel, row.ok, row.score, JSON.stringify(row.failures), JSON.stringify(row.verdicts), row.candidateCostUsd],
      );
      if (spend) {
        await tx.query(
          "UPDATE shadow_spend_daily SET reserved_usd = GREATEST(0, reserved_usd - $2::numeric), spent_usd = spent_usd + $3::numeric WHERE day = $1::date",
          [spend.day, spend.reservedUsd, r.rows.length > 0 ? (row.candidateCostUsd ?? "0") : "0"],
        );
      }
      return r.rows.length > 0;
    });
  }

  async spentToday(day: string): Promise<{ spentUsd: string; reservedUsd: string }> {
    const r = await this.sql.query<{ spent: string; reserved: string }>("SELECT spent_usd::text AS spent, reserved_usd::text AS reserved FROM shadow_spend_daily WHERE day = $1::date", [day]);
    const row = r.rows[0];
    return { spentUsd: row?.spent ?? "0", reservedUsd: row?.reserved ?? "0" };
  }

  /** Per (tenant, category, tier, served → candidate): samples, passes and the Wilson lower bound. */
  async report(tenant: string, policy: DowngradePolicy = DEFAULT_DOWNGRADE_POLICY): Promise<Finding[]> {
    const r = await this.sql.query<{ tenant_id: string; category: string; tier: string; served_model: string; candidate_model: string; n: string; passes: string }>(
      `SELECT tenant_id, category, tier, served_model, candidate_model, count(*)::text AS n, count(*) FILTER (WHERE ok)::text AS passes
       FROM shadow_results WHERE ($1 = '' OR tenant_id = $1)
       GROUP BY tenant_id, category, tier, served_model, candidate_model ORDER BY count(*) DESC`,
      [tenant],
    );
    return r.rows.map((x) => {
      const samples = Number(x.n);
      const passes = Number(x.passes);
      const lb = wilsonLower(passes, samples);
      return { tenant: x.tenant_id, category: x.category, tier: x.tier, from: x.served_model, to: x.candidate_model, samples, passes, passRate: passes / samples, lowerBound: lb, safe: samples >= policy.minSamples && lb >= policy.targetPassRate };
    });
  }

  /** Every result since a time, for the nightly analysis. */
  async since(from: Date): Promise<(ShadowResultRow & { createdAt: Date })[]> {
    const r = await this.sql.query<{ request_id: string; candidate_model: string; tenant_id: string; category: string; tier: string; served_model: string; ok: boolean; score: number; candidate_cost_usd: string | null; created_at: string }>(
      `SELECT request_id, candidate_model, tenant_id, category, tier, served_model, ok, score, candidate_cost_usd::text AS candidate_cost_usd, created_at::text AS created_at
       FROM shadow_results WHERE created_at >= $1 ORDER BY created_at`,
      [from.toISOString()],
    );
    return r.rows.map((x) => ({
      requestId: x.request_id,
      candidateModel: x.candidate_model,
      tenantId: x.tenant_id,
      category: x.category,
      tier: x.tier,
      servedModel: x.served_model,
      ok: x.ok,
      score: Number(x.score),
      failures: [],
      verdicts: [],
      candidateCostUsd: x.candidate_cost_usd,
      createdAt: new Date(x.created_at),
    }));
  }
}
