// npx tsx services/ledger/bench/outage-bench.ts [--requests 8] [--timeout-ms 1000] [--redis redis://127.0.0.1:6379]
// Admission latency while Redis is stalled (a fault proxy forwards nothing), side by side: the bare
// Redis budget store (each reservation waits out the command timeout, as before issue #11) and the
// guarded store (one waits, the rest are decided at once by budgets.outage_mode). Sequential requests.
import { randomBytes } from "node:crypto";
import { Command } from "commander";
import { Redis } from "ioredis";
import { startFaultProxy } from "../../../test/e2e/support/fault-proxy.ts";
import { Budgets, type BudgetStore } from "../domain/budget.ts";
import { GuardedBudgetStore } from "../storage/budget-store-guarded.ts";
import { RedisBudgetStore } from "../storage/budget-store-redis.ts";

const o = new Command()
  .option("--requests <n>", "sequential reservations while stalled", (v) => Number(v), 8)
  .option("--timeout-ms <n>", "Redis command timeout", (v) => Number(v), 1_000)
  .option("--redis <url>", "Redis server", "redis://127.0.0.1:6379")
  .parse()
  .opts<{ requests: number; timeoutMs: number; redis: string }>();

const target = new URL(o.redis);
const proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port || 6379) });
const prefix = `bench:outage:${randomBytes(4).toString("hex")}:`;
const silent = { warn: () => undefined, info: () => undefined };
const limits = { limitsFor: async () => ({ tenant: {}, key: {} }) };

async function connectRedis(): Promise<Redis> {
  const r = new Redis({ host: "127.0.0.1", port: proxy.port, maxRetriesPerRequest: 0, enableOfflineQueue: false, commandTimeout: o.timeoutMs });
  r.on("error", () => undefined);
  await new Promise<void>((res) => r.once("ready", () => res()));
  return r;
}

/** ms per sequential reservation while stalled; a failed reservation counts like an admitted one (the edge decides). */
async function run(label: string, store: BudgetStore): Promise<number[]> {
  const b = new Budgets(store, limits);
  await b.reserve({ reservationId: `${label}-warm`, tenantId: "t", keyId: "k", amountUsd: "0.01" });
  proxy.stall();
  const ms: number[] = [];
  for (let i = 0; i < o.requests; i++) {
    const t0 = performance.now();
    await b.reserve({ reservationId: `${label}-${i}`, tenantId: "t", keyId: "k", amountUsd: "0.01" }).catch(() => undefined);
    ms.push(performance.now() - t0);
  }
  proxy.heal();
  return ms;
}

const bareRedis = await connectRedis();
const bare = await run("bare", new RedisBudgetStore(bareRedis, prefix));
const guardedRedis = await connectRedis();
const guardedStore = new GuardedBudgetStore(new RedisBudgetStore(guardedRedis, prefix), { outage_mode: "local", outage_min_replicas: 1, probe_after_ms: 60_000 }, silent);
await guardedStore.start();
const guarded = await run("guarded", guardedStore);
await guardedStore.stop();

const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(", ");
console.log(`${o.requests} sequential reservations with Redis stalled (command timeout ${o.timeoutMs} ms):`);
console.log(`  bare Redis store:    ${total(bare).toFixed(0)} ms total  [${fmt(bare)}]`);
console.log(`  guarded store:       ${total(guarded).toFixed(0)} ms total  [${fmt(guarded)}]`);
console.log(`  ratio bare/guarded:  ${(total(bare) / total(guarded)).toFixed(1)}x`);

const admin = new Redis(o.redis);
const keys = await admin.keys(`${prefix}*`);
if (keys.length > 0) await admin.del(...keys);
admin.disconnect();
bareRedis.disconnect();
guardedRedis.disconnect();
await proxy.close();
