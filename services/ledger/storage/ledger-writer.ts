import type { RequestCompleted } from "#libs/gen/llmgw/events/v1/events_pb.ts";
import type { PriceTable } from "#libs/pricing/price-table.ts";
import { costRequest, type RequestCost } from "../domain/request-cost.ts";
import { tierName } from "../domain/tier.ts";
import type { SqlClient } from "#libs/sql/sql-client.ts";

export interface WriteResult {
  requestId: string;
  /** False when the request id was already in the ledger (or repeated in the batch). */
  inserted: boolean;
  cost: RequestCost;
  event: RequestCompleted;
}

type Col = [name: string, cast: string];

const REQUEST_COLS: Col[] = [
  ["request_id", "text"], ["tenant_id", "text"], ["key_id", "text"], ["trace_id", "text"],
  ["received_at", "timestamptz"], ["completed_at", "timestamptz"], ["requested_model", "text"],
  ["category", "text"], ["tier", "text"], ["confidence", "float8"], ["model", "text"], ["provider", "text"],
  ["input_tokens", "int8"], ["cached_input_tokens", "int8"], ["cache_write_5m_tokens", "int8"],
  ["cache_write_1h_tokens", "int8"], ["output_tokens", "int8"], ["reasoning_tokens", "int8"],
  ["cost_usd", "numeric"], ["baseline_model", "text"], ["baseline_usd", "numeric"], ["savings_usd", "numeric"],
  ["cache_savings_usd", "numeric"], ["routing_savings_usd", "numeric"], ["cascade_savings_usd", "numeric"],
  ["batch_savings_usd", "numeric"], ["cache_outcome", "text"], ["cascaded", "bool"], ["escalated", "bool"],
  ["stream", "bool"], ["batch", "bool"], ["latency_ms", "int8"], ["overhead_ms", "float8"],
  ["http_status", "int4"], ["error_code", "text"], ["unpriced", "bool"], ["usage_estimated", "bool"],
  ["policy_version", "int8"], ["policy_canary", "bool"],
];

const CALL_COLS: Col[] = [
  ["request_id", "text"], ["call_id", "text"], ["kind", "text"], ["billed", "bool"], ["model", "text"],
  ["provider", "text"], ["status", "text"], ["error_code", "text"], ["started_at", "timestamptz"],
  ["latency_ms", "int8"], ["input_tokens", "int8"], ["cached_input_tokens", "int8"],
  ["cache_write_5m_tokens", "int8"], ["cache_write_1h_tokens", "int8"], ["output_tokens", "int8"],
  ["reasoning_tokens", "int8"], ["usage_estimated", "bool"], ["cost_usd", "numeric"], ["unpriced", "bool"],
];

// The whole batch is ONE statement (data-modifying CTEs): insert the requests, insert the calls of the
// requests that were new, add those same new rows to the daily rollup. One round trip, and the rollup
// sums the RETURNING rows instead of reading the requests back by id. Parameters are one array per
// column, typed as the column (not text[] cast per element: that parses every value twice).
// $1..$39 request columns, $40..$58 call columns.
const params = (cols: Col[], from: number): string => cols.map(([, cast], i) => `$${from + i}::${cast}[]`).join(", ");
const names = (cols: Col[], prefix = ""): string => cols.map(([n]) => prefix + n).join(", ");

const SUMS = [
  "requests", "unpriced_requests", "input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens",
  "cost_usd", "baseline_usd", "savings_usd", "cache_savings_usd", "routing_savings_usd", "cascade_savings_usd",
  "batch_savings_usd",
];

// Rollup rows in a fixed order so concurrent writers lock them in the same order (no deadlock).
const WRITE_BATCH = `
WITH new_requests AS (
  INSERT INTO requests (${names(REQUEST_COLS)})
  SELECT * FROM unnest(${params(REQUEST_COLS, 1)})
  ON CONFLICT (request_id) DO NOTHING
  RETURNING request_id, tenant_id, key_id, completed_at, model, tier, category, unpriced, input_tokens,
    cached_input_tokens, cache_write_5m_tokens, cache_write_1h_tokens, output_tokens, cost_usd, baseline_usd,
    savings_usd, cache_savings_usd, routing_savings_usd, cascade_savings_usd, batch_savings_usd
), new_calls AS (
  INSERT INTO calls (${names(CALL_COLS)})
  SELECT ${names(CALL_COLS, "c.")} FROM unnest(${params(CALL_COLS, REQUEST_COLS.length + 1)}) AS c(${names(CALL_COLS)})
  WHERE c.request_id IN (SELECT request_id FROM new_requests)
), rollup AS (
  INSERT INTO spend_daily (day, tenant_id, key_id, model, tier, category, ${SUMS.join(", ")})
  SELECT (completed_at AT TIME ZONE 'UTC')::date, tenant_id, key_id, model, tier, category,
         count(*), count(*) FILTER (WHERE unpriced), sum(input_tokens), sum(cached_input_tokens),
         sum(cache_write_5m_tokens + cache_write_1h_tokens), sum(output_tokens),
         sum(cost_usd), sum(baseline_usd), sum(savings_usd), sum(cache_savings_usd), sum(routing_savings_usd),
         sum(cascade_savings_usd), sum(batch_savings_usd)
  FROM new_requests
  GROUP BY 1, 2, 3, 4, 5, 6
  ORDER BY 1, 2, 3, 4, 5, 6
  ON CONFLICT (day, tenant_id, key_id, model, tier, category) DO UPDATE SET
${SUMS.map((c) => `    ${c} = spend_daily.${c} + excluded.${c}`).join(",\n")}
)
SELECT request_id FROM new_requests`;

const orNull = (s: string): string | null => (s === "" ? null : s);
const b = (v: boolean): string => (v ? "t" : "f");

function requestRow(ev: RequestCompleted, c: RequestCost): Array<string | null> {
  const ctx = ev.context;
  const u = c.billedUsage;
  return [
    c.requestId, ctx?.tenantId ?? "", ctx?.keyId ?? "", ctx?.traceId ?? "",
    orNull(ev.receivedAt), orNull(ev.completedAt) ?? new Date().toISOString(), ev.requestedModel,
    ev.category, tierName(ev.tier), String(ev.confidence), ev.model, ev.provider,
    String(u.inputTokens), String(u.cachedInputTokens), String(u.cacheWrite5mTokens),
    String(u.cacheWrite1hTokens), String(u.outputTokens), String(u.reasoningTokens),
    c.costUsd, ev.baselineModel, c.baselineUsd, c.savingsUsd,
    c.cacheSavingsUsd, c.routingSavingsUsd, c.cascadeSavingsUsd,
    c.batchSavingsUsd, ev.cacheOutcome, b(ev.cascaded), b(ev.escalated),
    b(ev.stream), b(ev.batch), ev.latencyMs.toString(), String(ev.overheadMs),
    String(ev.httpStatus), ev.errorCode, b(c.unpriced), b(c.usageEstimated),
    ev.policyVersion.toString(), b(ev.policyCanary),
  ];
}

function columns(rows: Array<Array<string | null>>, width: number): Array<Array<string | null>> {
  const cols: Array<Array<string | null>> = Array.from({ length: width }, () => []);
  for (const r of rows) for (let i = 0; i < width; i++) cols[i]!.push(r[i] ?? null);
  return cols;
}

/**
 * Writes RequestCompleted events: requests + calls + daily rollup in ONE transaction per batch.
 * Idempotent on request id: a known id inserts nothing and adds nothing to the rollup.
 */
export class LedgerWriter {
  constructor(
    private readonly sql: SqlClient,
    private readonly prices: PriceTable,
  ) {}

  async writeBatch(events: RequestCompleted[]): Promise<WriteResult[]> {
    const costs = events.map((ev) => costRequest(ev, this.prices));
    const firstIndex = new Map<string, number>();
    costs.forEach((c, i) => {
      if (!c.requestId) throw new Error(`event ${i} has no context.request_id`);
      if (!firstIndex.has(c.requestId)) firstIndex.set(c.requestId, i);
    });
    const unique = [...firstIndex.values()];
    if (unique.length === 0) return [];

    const reqRows = unique.map((i) => requestRow(events[i]!, costs[i]!));
    const callRows: Array<Array<string | null>> = [];
    for (const i of unique) {
      const c = costs[i]!;
      const ev = events[i]!;
      c.calls.forEach((call, j) => {
        const src = ev.calls[j]!;
        const u = call.usage;
        callRows.push([
          c.requestId, call.callId, call.kind, b(call.billed), call.model,
          src.provider, src.status, src.errorCode, orNull(src.startedAt),
          src.latencyMs.toString(), String(u.inputTokens), String(u.cachedInputTokens),
          String(u.cacheWrite5mTokens), String(u.cacheWrite1hTokens), String(u.outputTokens),
          String(u.reasoningTokens), b(u.estimated), call.costUsd, b(call.unpriced),
        ]);
      });
    }
    // One statement is one transaction: requests, calls and rollup commit together or not at all.
    // Prepared: parsing and planning it cost more than writing a small batch (2 ms on PGlite).
    const { rows } = await this.sql.query<{ request_id: string }>(
      WRITE_BATCH,
      [...columns(reqRows, REQUEST_COLS.length), ...columns(callRows, CALL_COLS.length)],
      { prepare: "ledger_write_batch" },
    );
    const inserted = new Set(rows.map((r) => r.request_id));

    const claimed = new Set<string>();
    return events.map((event, i) => {
      const cost = costs[i]!;
      const first = firstIndex.get(cost.requestId) === i;
      const isNew = first && inserted.has(cost.requestId) && !claimed.has(cost.requestId);
      if (isNew) claimed.add(cost.requestId);
      return { requestId: cost.requestId, inserted: isNew, cost, event };
    });
  }
}
