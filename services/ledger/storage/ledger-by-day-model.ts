import type { LedgerDayModel } from "../domain/reconcile.ts";
import type { SqlClient } from "#libs/sql/sql-client.ts";

/** Billed provider calls per UTC day and model, for reconciliation against a provider's export. */
export async function ledgerByDayModel(sql: SqlClient, opts: { provider: string; fromDay: string; toDay: string }): Promise<LedgerDayModel[]> {
  const { rows } = await sql.query<{ day: string; model: string; cost: string | null; calls: string; inp: string; cached: string; out: string }>(
    `SELECT ((coalesce(c.started_at, r.completed_at) AT TIME ZONE 'UTC')::date)::text AS day, c.model,
            sum(c.cost_usd)::text AS cost, count(*)::text AS calls, sum(c.input_tokens)::text AS inp,
            sum(c.cached_input_tokens)::text AS cached, sum(c.output_tokens)::text AS out
       FROM calls c JOIN requests r ON r.request_id = c.request_id
      WHERE c.billed AND c.provider = $1
        AND coalesce(c.started_at, r.completed_at) >= $2::date
        AND coalesce(c.started_at, r.completed_at) < ($3::date + 1)
      GROUP BY 1, 2 ORDER BY 1, 2`,
    [opts.provider, opts.fromDay, opts.toDay],
  );
  return rows.map((r) => ({
    day: r.day, model: r.model, costUsd: r.cost ?? "0", calls: Number(r.calls),
    inputTokens: Number(r.inp), cachedInputTokens: Number(r.cached), outputTokens: Number(r.out),
  }));
}
