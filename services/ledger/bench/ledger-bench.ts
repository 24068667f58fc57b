// npm run bench:ledger -- [--rows 1000000] [--ingest 50000] [--e2e 20000] [--json OUT] [--database-url URL] [--nats URL]
// Measures: ledger ingest through LedgerWriter.writeBatch (events/s), end to end through JetStream
// and the ledger consumer (events/s), and spend-report latency (p50/p99) over `rows` generated rows.
// Every phase uses its own PostgreSQL schema / JetStream stream, dropped at the end.
import { LEDGER_MIGRATIONS } from "../storage/migrations.ts";
import { writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { toBinary } from "@bufbuild/protobuf";
import { Command } from "commander";
import { connect } from "nats";
import pg from "pg";
import { RequestCompletedSchema, type RequestCompleted } from "#libs/gen/llmgw/events/v1/events_pb.ts";
import { Tier } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import { NatsEventBus } from "#libs/bus/nats-bus.ts";
import { subjects } from "#libs/bus/subjects.ts";
import { loadPriceTable } from "#libs/pricing/price-table.ts";
import { LedgerConsumer } from "../consumer/ledger-consumer.ts";
import { LedgerWriter } from "../storage/ledger-writer.ts";
import { migrate } from "#libs/sql/migrate.ts";
import { createPgPool, pgSqlClient } from "#libs/sql/pg-client.ts";
import { SpendReport, type SpendQuery } from "../storage/spend-report.ts";
import { makeEvent } from "../storage/test-support.ts";

const o = new Command()
  .option("--rows <n>", "rows for the report benchmark", (v) => Number(v), 1_000_000)
  .option("--ingest <n>", "events for the writeBatch benchmark", (v) => Number(v), 50_000)
  .option("--e2e <n>", "events for the JetStream end-to-end benchmark", (v) => Number(v), 20_000)
  .option("--batch <n>", "events per writeBatch", (v) => Number(v), 500)
  .option("--runs <n>", "runs per report query", (v) => Number(v), 30)
  .option("--json <path>", "write results as JSON")
  .option("--no-cost-events", "end to end without publishing CostRecorded")
  .option("--only <phases>", "comma list of phases: ingest,e2e,report", "ingest,e2e,report")
  .option("--database-url <url>", "PostgreSQL", process.env.LLMGW_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test")
  .option("--nats <url>", "NATS", process.env.NATS_URL ?? "127.0.0.1:4222")
  .parse()
  .opts<{ rows: number; ingest: number; e2e: number; batch: number; runs: number; json?: string; databaseUrl: string; nats: string; costEvents: boolean; only: string }>();
const phases = new Set(o.only.split(","));

const prices = loadPriceTable();
const run = randomBytes(3).toString("hex");
const MODELS = ["gpt-4o-mini", "gpt-4o", "gpt-4.1-nano", "gpt-4.1-mini", "gpt-4.1", "o3-mini", "claude-3-5-haiku-latest", "claude-sonnet-4-5"];
const results: Record<string, unknown> = { started_at: new Date().toISOString(), node: process.version };

function syntheticEvent(i: number, prefix: string): RequestCompleted {
  const model = MODELS[i % MODELS.length]!;
  const cascade = i % 10 === 0;
  return makeEvent({
    requestId: `${prefix}-${i}`, tenantId: `t${i % 20}`, keyId: `k${i % 100}`, category: `cat${i % 8}`, tier: (1 + (i % 4)) as Tier,
    completedAt: new Date(Date.now() - (i % 30) * 86_400_000).toISOString(),
    cascaded: cascade, stream: i % 2 === 0,
    calls: cascade
      ? [{ kind: "cascade_first", model: "small-8k", provider: "simulator", usage: { inputTokens: 300, outputTokens: 50 } }, { kind: "escalation", model, usage: { inputTokens: 300, outputTokens: 120 } }]
      : [{ model, usage: { inputTokens: 200 + (i % 700), cachedInputTokens: i % 3 === 0 ? 512 : 0, outputTokens: 50 + (i % 300) } }],
  });
}

async function withSchema<T>(name: string, fn: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const schema = `bench_${name}_${run}`;
  await migrate({ kind: "pg", databaseUrl: o.databaseUrl, schema }, LEDGER_MIGRATIONS);
  const pool = createPgPool(o.databaseUrl, { schema, max: 8 });
  try {
    return await fn(pool);
  } finally {
    await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
    await pool.end();
  }
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

// 1. writeBatch ingest
if (phases.has("ingest")) await withSchema("ingest", async (pool) => {
  const writer = new LedgerWriter(pgSqlClient(pool), prices);
  const events = Array.from({ length: o.ingest }, (_, i) => syntheticEvent(i, "ing"));
  const t0 = performance.now();
  for (let i = 0; i < events.length; i += o.batch) await writer.writeBatch(events.slice(i, i + o.batch));
  const sec = (performance.now() - t0) / 1000;
  // Second writer pass over the same ids: the idempotent path (all conflicts).
  const t1 = performance.now();
  for (let i = 0; i < events.length; i += o.batch) await writer.writeBatch(events.slice(i, i + o.batch));
  const dupSec = (performance.now() - t1) / 1000;
  results.ingest_write_batch = { events: o.ingest, batch: o.batch, seconds: round(sec), events_per_s: Math.round(o.ingest / sec), duplicate_events_per_s: Math.round(o.ingest / dupSec) };
  console.log("writeBatch ingest:", results.ingest_write_batch);
});

// 2. JetStream end to end: publish, then a consumer drains into PostgreSQL.
if (phases.has("e2e")) await withSchema("e2e", async (pool) => {
  const names = { stream: `LEDGER_BENCH_${run}`, prefix: `ledgerbench${run}.events` };
  const nc = await connect({ servers: o.nats });
  try {
    const bus = await NatsEventBus.create(nc, names, { storage: "file" });
    const subj = subjects(names).requestCompleted;
    const payloads = Array.from({ length: o.e2e }, (_, i) => toBinary(RequestCompletedSchema, syntheticEvent(i, "e2e")));
    const tp = performance.now();
    for (let i = 0; i < payloads.length; i += 1000) {
      await Promise.all(payloads.slice(i, i + 1000).map((p, k) => bus.publish(subj, p, `e2e-${i + k}`)));
    }
    const pubSec = (performance.now() - tp) / 1000;
    let done = 0;
    let resolveDone: () => void = () => {};
    const finished = new Promise<void>((r) => (resolveDone = r));
    const consumer = new LedgerConsumer({
      bus, writer: new LedgerWriter(pgSqlClient(pool), prices), names, maxBatch: o.batch, publishCostRecorded: o.costEvents,
      onCommitted: (r) => {
        done += r.length;
        if (done >= o.e2e) resolveDone();
      },
    });
    const t0 = performance.now();
    await consumer.start();
    await finished;
    const sec = (performance.now() - t0) / 1000;
    await consumer.stop();
    const n = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM requests");
    results.ingest_jetstream_e2e = { events: o.e2e, rows: n.rows[0]?.n, publish_per_s: Math.round(o.e2e / pubSec), consume_seconds: round(sec), events_per_s: Math.round(o.e2e / sec), cost_recorded_published: o.costEvents };
    console.log("JetStream end to end:", results.ingest_jetstream_e2e);
    await (await nc.jetstreamManager()).streams.delete(names.stream);
  } finally {
    await nc.close();
  }
});

// 3. Report latency at `rows` rows (generated in SQL), rollup built as the writer maintains it.
if (phases.has("report")) await withSchema("report", async (pool) => {
  const t0 = performance.now();
  await pool.query(`
    INSERT INTO requests (request_id, tenant_id, key_id, completed_at, category, tier, model, provider,
      input_tokens, output_tokens, cost_usd, baseline_model, baseline_usd, savings_usd, routing_savings_usd, cache_savings_usd, cache_outcome, unpriced)
    SELECT 'r' || i, 't' || (i % 100) % 20, 'k' || (i % 100), now() - ((i % 30) || ' days')::interval - ((i % 86400) || ' seconds')::interval,
      'cat' || (i % 8), (ARRAY['low','medium','high','agentic'])[1 + i % 4], (ARRAY[${MODELS.map((m) => `'${m}'`).join(",")}])[1 + (i / 7) % ${MODELS.length}], 'openai',
      200 + i % 700, 50 + i % 300, (i % 1000) * 0.000001, 'gpt-4o', (i % 1000) * 0.000003, (i % 1000) * 0.000002,
      CASE WHEN i % 5 = 0 THEN 0 ELSE (i % 1000) * 0.000002 END, CASE WHEN i % 5 = 0 THEN (i % 1000) * 0.000002 ELSE 0 END,
      CASE WHEN i % 5 = 0 THEN 'hit_exact' ELSE 'miss' END, i % 997 = 0
    FROM generate_series(1, $1::int) AS i`, [o.rows]);
  const genSec = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  await pool.query(`
    INSERT INTO spend_daily
    SELECT (completed_at AT TIME ZONE 'UTC')::date, tenant_id, key_id, model, tier, category, count(*), count(*) FILTER (WHERE unpriced),
      sum(input_tokens), sum(cached_input_tokens), sum(cache_write_5m_tokens + cache_write_1h_tokens), sum(output_tokens),
      sum(cost_usd), sum(baseline_usd), sum(savings_usd), sum(cache_savings_usd), sum(routing_savings_usd), sum(cascade_savings_usd), sum(batch_savings_usd)
    FROM requests GROUP BY 1, 2, 3, 4, 5, 6`);
  await pool.query("ANALYZE requests; ANALYZE spend_daily");
  const rollupSec = (performance.now() - t1) / 1000;
  const rollupRows = (await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM spend_daily")).rows[0]?.n;
  console.log(`generated ${o.rows} rows in ${round(genSec)} s, rollup (${rollupRows} rows) in ${round(rollupSec)} s`);

  const report = new SpendReport(pgSqlClient(pool));
  const now = Date.now();
  const queries: Array<[string, SpendQuery]> = [
    ["total_since_30d", { since: new Date(now - 30 * 86_400_000) }],
    ["by_model_since_30d", { since: new Date(now - 30 * 86_400_000), groupBy: "model" }],
    ["by_day_since_7d", { since: new Date(now - 7 * 86_400_000), groupBy: "day" }],
    ["by_key_one_tenant_30d", { since: new Date(now - 30 * 86_400_000), groupBy: "key", tenantId: "t3" }],
    ["by_category_since_24h", { since: new Date(now - 86_400_000), groupBy: "category" }],
  ];
  const latency: Record<string, { p50_ms: number; p99_ms: number; rows: number }> = {};
  let check: string | undefined;
  for (const [name, q] of queries) {
    const times: number[] = [];
    let rows = 0;
    for (let k = 0; k < o.runs; k++) {
      const s = performance.now();
      const r = await report.query(q);
      times.push(performance.now() - s);
      rows = r.rows.length;
      if (name === "total_since_30d") check = `${r.total.requests} requests, $${r.total.cost_usd}`;
    }
    latency[name] = { p50_ms: round(pct(times, 50)), p99_ms: round(pct(times, 99)), rows };
    console.log(`report ${name}: p50 ${latency[name]!.p50_ms} ms, p99 ${latency[name]!.p99_ms} ms`);
  }
  // For contrast: the same 30-day total straight from the requests table (what the rollup avoids).
  const s = performance.now();
  await pool.query("SELECT count(*), sum(cost_usd) FROM requests WHERE completed_at >= now() - interval '30 days'");
  const rawMs = performance.now() - s;
  results.report = { rows: o.rows, rollup_rows: rollupRows, generate_seconds: round(genSec), rollup_build_seconds: round(rollupSec), runs: o.runs, latency, raw_scan_total_ms: round(rawMs), total_check: check };
});

results.finished_at = new Date().toISOString();
if (o.json) writeFileSync(o.json, JSON.stringify(results, null, 2) + "\n");
console.log(JSON.stringify(results, null, 2));
