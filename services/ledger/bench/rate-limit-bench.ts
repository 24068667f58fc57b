// What rate limits add to a budget reservation on Redis: the same Budgets.reserve + settle, one
// connection, sequential (round trips dominate), without limits and with four limiters (tenant and
// key, requests and tokens per minute), interleaved in rounds so load on the machine hits both alike.
// npx tsx services/ledger/bench/rate-limit-bench.ts [--n 2000] [--rounds 5]
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { Budgets, type ApplicableLimits } from "../domain/budget.ts";
import { RedisBudgetStore } from "../storage/budget-store-redis.ts";

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : d;
};
const N = arg("n", 2000);
const ROUNDS = arg("rounds", 5);
const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
const prefix = `bench:rl:${randomBytes(4).toString("hex")}:`;
const store = new RedisBudgetStore(redis, prefix);
const big = 1_000_000_000;
const plain: ApplicableLimits = { tenant: {}, key: { day: { hardUsd: "1000000" } } };
const limited: ApplicableLimits = { ...plain, rates: { tenant: { requests_per_minute: big, tokens_per_minute: big }, key: { requests_per_minute: big, tokens_per_minute: big } } };

async function run(limits: ApplicableLimits, tag: string): Promise<number> {
  const b = new Budgets(store, { limitsFor: async () => limits });
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const id = `${tag}-${i}`;
    const r = await b.reserve({ reservationId: id, tenantId: "t", keyId: "k", amountUsd: "0.001", tokens: 100 });
    if (!r.admitted) throw new Error("refused");
    await b.settle(id, "0.0005", 150);
  }
  return ((performance.now() - t0) * 1000) / N;
}

const a: number[] = [];
const c: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  a.push(await run(plain, `p${r}`));
  c.push(await run(limited, `l${r}`));
}
const med = (x: number[]) => [...x].sort((p, q) => p - q)[Math.floor(x.length / 2)] ?? 0;
console.log(`reserve+settle per request (µs, median of ${ROUNDS} rounds of ${N}): budget only ${med(a).toFixed(0)}, with 4 rate limiters ${med(c).toFixed(0)}, ratio ${(med(c) / med(a)).toFixed(2)}`);
const keys = await redis.keys(`${prefix}*`);
for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
redis.disconnect();
