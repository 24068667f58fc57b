// Records shadow-test calls (ShadowEvaluated.call) in `calls`: kind shadow, never billed to the
// request, priced like any call. Idempotent on call_id; waits for the request row it belongs to.
import type { ProviderCall } from "#libs/gen/llmgw/events/v1/events_pb.ts";
import { computeCost, fromProtoUsage, type PriceTable } from "#libs/pricing/index.ts";
import type { SqlClient } from "#libs/sql/sql-client.ts";

export type ShadowWrite = "inserted" | "duplicate" | "missing_request";

const INSERT = `
INSERT INTO calls (request_id, call_id, kind, billed, model, provider, status, error_code, started_at, latency_ms,
  input_tokens, cached_input_tokens, cache_write_5m_tokens, cache_write_1h_tokens, output_tokens, reasoning_tokens,
  usage_estimated, cost_usd, unpriced)
SELECT $1, $2, 'shadow', false, $3, $4, $5, $6, $7::timestamptz, $8::int8, $9::int8, $10::int8, $11::int8, $12::int8,
  $13::int8, $14::int8, $15::bool, $16::numeric, $17::bool
WHERE EXISTS (SELECT 1 FROM requests WHERE request_id = $1)
  AND NOT EXISTS (SELECT 1 FROM calls WHERE request_id = $1 AND call_id = $2)
RETURNING id`;

export class ShadowCallWriter {
  constructor(
    private readonly sql: SqlClient,
    private readonly prices: PriceTable,
  ) {}

  async write(requestId: string, call: ProviderCall): Promise<{ result: ShadowWrite; unpriced: boolean }> {
    const usage = fromProtoUsage(call.usage);
    const at = call.startedAt ? new Date(call.startedAt) : new Date();
    const cost = computeCost(this.prices, usage, call.model, Number.isNaN(at.getTime()) ? new Date() : at);
    const { rows } = await this.sql.query<{ id: string }>(INSERT, [
      requestId,
      call.callId,
      call.model,
      call.provider,
      call.status,
      call.errorCode,
      call.startedAt || null,
      call.latencyMs.toString(),
      String(usage.inputTokens),
      String(usage.cachedInputTokens),
      String(usage.cacheWrite5mTokens),
      String(usage.cacheWrite1hTokens),
      String(usage.outputTokens),
      String(usage.reasoningTokens),
      usage.estimated,
      cost.unpriced ? null : cost.costUsd,
      cost.unpriced,
    ]);
    if (rows.length > 0) return { result: "inserted", unpriced: cost.unpriced };
    const exists = await this.sql.query<{ one: number }>("SELECT 1 AS one FROM requests WHERE request_id = $1", [requestId]);
    return { result: exists.rows.length > 0 ? "duplicate" : "missing_request", unpriced: cost.unpriced };
  }
}
