// npx tsx services/ledger/bench/writer-cpu-bench.ts [--db pglite|pg|both] [--batch 64] [--events 6400] [--rounds 6]
//   [--compare MODULE] [--setup SQL] [--compare-setup SQL] [--params k=v,..] [--compare-params k=v,..] [--per-statement]
// CPU µs per event of LedgerWriter.writeBatch, the ledger's hot path. PGlite runs in this process (the
// embedded gateway's in-memory ledger, opened like the gateway opens it), so process.cpuUsage is all of
// it; for PostgreSQL the server backend's CPU (/proc/<pid>/stat of the pool's one connection) is added.
// A/B: --compare MODULE (a file exporting LedgerWriter, e.g. the previous writer copied next to this one),
// and/or another schema (--compare-setup, e.g. an index put back) or PGlite settings (--compare-params);
// rounds alternate ABBA, each variant on its own database, both growing alike; medians reported.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { Command } from "commander";
import type { RequestCompleted } from "#libs/gen/llmgw/events/v1/events_pb.ts";
import type { Tier } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import { loadPriceTable, type PriceTable } from "#libs/pricing/price-table.ts";
import { migrate } from "#libs/sql/migrate.ts";
import { createPgPool, pgSqlClient } from "#libs/sql/pg-client.ts";
import { startPgliteWorker } from "#libs/sql/pglite-worker-client.ts";
import type { QueryOptions, SqlClient } from "#libs/sql/sql-client.ts";
import { LedgerWriter } from "../storage/ledger-writer.ts";
import { LEDGER_MIGRATIONS } from "../storage/migrations.ts";
import { makeEvent, TEST_DATABASE_URL, uniqueId } from "../storage/test-support.ts";

const o = new Command()
  .option("--db <kind>", "pglite, pg or both", "both")
  .option("--batch <n>", "events per writeBatch", (v) => Number(v), 64)
  .option("--events <n>", "events per round and writer", (v) => Number(v), 6400)
  .option("--rounds <n>", "measured rounds (after one warm-up round)", (v) => Number(v), 6)
  .option("--compare <module>", "A/B against the LedgerWriter exported by this module")
  .option("--params <list>", "extra PGlite settings for the current writer's database: name=value,...", "")
  .option("--compare-params <list>", "extra PGlite settings for the compared writer's database", "")
  .option("--setup <sql>", "SQL run on the current writer's database after migrating (experiments)", "")
  .option("--compare-setup <sql>", "SQL run on the compared writer's database after migrating", "")
  .option("--duplicates", "measured rounds rewrite the warm-up round's events: the idempotent path (all known ids)")
  .option("--per-statement", "CPU per statement kind (PGlite runs synchronously in this process)")
  .option("--database-url <url>", "PostgreSQL", TEST_DATABASE_URL)
  .parse()
  .opts<{ duplicates?: boolean; setup: string; compareSetup: string; params: string; compareParams: string; perStatement?: boolean; db: string; batch: number; events: number; rounds: number; compare?: string; databaseUrl: string }>();

interface Writer {
  writeBatch(events: RequestCompleted[]): Promise<unknown>;
}
type WriterClass = new (sql: SqlClient, prices: PriceTable) => Writer;
type Variant = [name: string, writer: WriterClass, pgliteParams: string, setupSql: string];

interface Target {
  sql: SqlClient;
  /** CPU µs spent outside this process since start (the PostgreSQL backend), 0 for PGlite. */
  remoteCpuUs(): Promise<number>;
  close(): Promise<void>;
}

const MODELS = ["gpt-4o-mini", "gpt-4o", "claude-sonnet-4-5"];

// Shaped like the gateway's traffic: today, 2 tenants, 3 keys, 4 categories each with its tier, 3 models
// (12 rollup rows), 1 call per request (a cascade, 1 in 10, has 2).
function event(i: number, prefix: string): RequestCompleted {
  const model = MODELS[i % MODELS.length]!;
  const cascade = i % 10 === 0;
  return makeEvent({
    requestId: `${prefix}-${i}`, tenantId: `t${i % 2}`, keyId: `k${i % 3}`, category: `cat${i % 4}`, tier: (1 + (i % 4)) as Tier,
    completedAt: new Date(Date.now() - (i % 50) * 1000).toISOString(), cascaded: cascade, stream: i % 2 === 0,
    calls: cascade
      ? [{ kind: "cascade_first", model: "small-8k", provider: "simulator", usage: { inputTokens: 300, outputTokens: 50 } }, { kind: "escalation", model, usage: { inputTokens: 300, outputTokens: 120 } }]
      : [{ model, usage: { inputTokens: 200 + (i % 700), cachedInputTokens: i % 3 === 0 ? 512 : 0, outputTokens: 50 + (i % 300) } }],
  });
}

/** CPU µs by statement (its first words), summed over the run. */
const perStatement = new Map<string, number>();

function timed(sql: SqlClient): SqlClient {
  return {
    async query<T>(text: string, params?: unknown[], opts?: QueryOptions) {
      const c0 = process.cpuUsage();
      try {
        return await sql.query<T>(text, params, opts);
      } finally {
        const c = process.cpuUsage(c0);
        const key = text.trim().replace(/\s+/g, " ").slice(0, 40);
        perStatement.set(key, (perStatement.get(key) ?? 0) + c.user + c.system);
      }
    },
    transaction: (fn) => sql.transaction((tx) => fn(timed(tx))),
  };
}

/** The gateway's in-memory PGlite, in its worker thread (as openDatabase opens it), with extra settings when asked. */
async function pgliteTarget(extra: string, setup: string): Promise<Target> {
  const db = await startPgliteWorker(undefined, { extraStartParams: extra ? extra.split(",").flatMap((kv) => ["-c", kv]) : [] });
  await migrate({ kind: "pglite-client", client: db.migrationClient }, LEDGER_MIGRATIONS);
  if (setup) await db.migrationClient.query(setup);
  // process.cpuUsage() counts every thread: the worker's PostgreSQL is in "local".
  return { sql: o.perStatement ? timed(db.sql) : db.sql, remoteCpuUs: async () => 0, close: () => db.close() };
}

const TICK_US = 1e6 / 100; // USER_HZ

async function pgTarget(setup: string): Promise<Target> {
  const schema = uniqueId("ledger_cpu_bench");
  await migrate({ kind: "pg", databaseUrl: o.databaseUrl, schema }, LEDGER_MIGRATIONS);
  const pool = createPgPool(o.databaseUrl, { schema, max: 1 });
  if (setup) await pool.query(setup);
  const pid = (await pool.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
  return {
    sql: pgSqlClient(pool),
    async remoteCpuUs() {
      // fields 14, 15 (utime, stime) after the ")" that ends the command name
      const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      return (Number(f[11]) + Number(f[12])) * TICK_US;
    },
    async close() {
      await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
      await pool.end();
    },
  };
}

async function round(writer: Writer, target: Target, prefix: string, start: number): Promise<{ local: number; remote: number }> {
  const events = Array.from({ length: o.events }, (_, i) => event(start + i, prefix));
  const r0 = await target.remoteCpuUs();
  const c0 = process.cpuUsage();
  for (let i = 0; i < events.length; i += o.batch) await writer.writeBatch(events.slice(i, i + o.batch));
  const c = process.cpuUsage(c0);
  const remote = (await target.remoteCpuUs()) - r0;
  return { local: (c.user + c.system) / o.events, remote: remote / o.events };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function bench(kind: "pglite" | "pg", prices: PriceTable, writers: Variant[]): Promise<void> {
  const targets = await Promise.all(writers.map(([, , params, setup]) => (kind === "pglite" ? pgliteTarget(params, setup) : pgTarget(setup))));
  const ws = writers.map(([, W], k) => new W(targets[k]!.sql, prices));
  const samples = writers.map(() => ({ local: [] as number[], remote: [] as number[] }));
  try {
    for (let r = 0; r <= o.rounds; r++) {
      // ABBA: whichever runs first in a round is measurably slower (about 15% in an A/A run).
      const order = ws.map((_, k) => (r % 2 === 0 ? k : ws.length - 1 - k));
      for (const k of order) {
        const s = o.duplicates ? await round(ws[k]!, targets[k]!, "r0", 0) : await round(ws[k]!, targets[k]!, `r${r}`, r * o.events);
        if (r > 0) {
          samples[k]!.local.push(s.local);
          samples[k]!.remote.push(s.remote);
        }
      }
    }
  } finally {
    await Promise.all(targets.map((t) => t.close()));
  }
  const all = o.events * (o.rounds + 1) * writers.length;
  for (const [k, us] of perStatement) console.log(`  ${(us / all).toFixed(1).padStart(7)} µs/event  ${k}`);
  perStatement.clear();
  writers.forEach(([name], k) => {
    const local = median(samples[k]!.local);
    const remote = median(samples[k]!.remote);
    const rounds = samples[k]!.local.map((x, i) => Math.round(x + samples[k]!.remote[i]!)).join(" ");
    console.log(`${kind} ${name}: ${Math.round(local + remote)} µs/event median (process ${Math.round(local)}, server ${Math.round(remote)}); rounds: ${rounds}`);
  });
}

const prices = loadPriceTable();
const writers: Variant[] = [["current", LedgerWriter, o.params, o.setup]];
if (o.compare) {
  const mod = (await import(pathToFileURL(resolve(o.compare)).href)) as { LedgerWriter: WriterClass };
  writers.unshift(["compare", mod.LedgerWriter, o.compareParams, o.compareSetup]);
} else if (o.compareParams || o.compareSetup) {
  writers.unshift(["compare", LedgerWriter, o.compareParams, o.compareSetup]);
}
console.log(`batch ${o.batch}, ${o.events} events per round, ${o.rounds} rounds; load average ${(await import("node:os")).loadavg().map((x) => x.toFixed(2)).join(" ")}`);
if (o.db !== "pg") await bench("pglite", prices, writers);
if (o.db !== "pglite") await bench("pg", prices, writers);
