// The budget outage modes against the real Redis, taken away through a fault proxy (cut: connections
// dropped and refused; stall: connections open, nothing forwarded), never a mock.
import { randomBytes } from "node:crypto";
import { ConnectError, Code } from "@connectrpc/connect";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { BudgetOutageMode } from "#libs/config/resilience.ts";
import { startFaultProxy, type FaultProxy } from "../../../test/e2e/support/fault-proxy.ts";
import { Budgets, scopesFor, usdToNano, type ApplicableLimits, type BudgetLimitSource } from "../domain/budget.ts";
import { GuardedBudgetStore } from "./budget-store-guarded.ts";
import { RedisBudgetStore } from "./budget-store-redis.ts";

const REDIS = new URL(process.env.LLMGW_TEST_REDIS_URL ?? "redis://127.0.0.1:6379");
const prefix = `test:guard:${randomBytes(4).toString("hex")}:`;
const TIMEOUT_MS = 300;
const silent = { warn: () => undefined, info: () => undefined };
const fixed = (l: ApplicableLimits): BudgetLimitSource => ({ limitsFor: async () => l });
const until = async (ok: () => boolean, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 25));
  }
};

let proxy: FaultProxy;
const admin = new Redis(REDIS.toString());
const opened: Array<{ store: GuardedBudgetStore; redis: Redis }> = [];

/** One ledger replica: its own Redis connection through the proxy, as the mesh opens it. */
async function replica(mode: BudgetOutageMode, minReplicas = 1, waitReady = true): Promise<GuardedBudgetStore> {
  const redis = new Redis({ host: "127.0.0.1", port: proxy.port, maxRetriesPerRequest: 0, enableOfflineQueue: false, commandTimeout: TIMEOUT_MS, retryStrategy: () => 50 });
  redis.on("error", () => undefined);
  if (waitReady) await new Promise<void>((r) => redis.once("ready", () => r()));
  const store = new GuardedBudgetStore(new RedisBudgetStore(redis, prefix), { outage_mode: mode, outage_min_replicas: minReplicas, probe_after_ms: 100 }, silent, { heartbeatMs: 100 });
  await store.start();
  opened.push({ store, redis });
  return store;
}

beforeAll(async () => {
  proxy = await startFaultProxy({ host: REDIS.hostname, port: Number(REDIS.port || 6379) });
});
afterEach(async () => {
  proxy.heal();
  for (const o of opened.splice(0)) {
    // Back up before it stops, so it leaves the heartbeat: the next test's replicas count only themselves.
    await until(() => o.store.available(), 2_000).catch(() => undefined);
    await o.store.stop();
    o.redis.disconnect();
  }
});
afterAll(async () => {
  await proxy.close();
  const keys = await admin.keys(`${prefix}*`);
  if (keys.length > 0) await admin.del(...keys);
  admin.disconnect();
});

const tenant = () => `t-${randomBytes(3).toString("hex")}`;
const ask = (b: Budgets, t: string, id: string, usd: string) => b.reserve({ reservationId: id, tenantId: t, keyId: "k", amountUsd: usd });
/** Admitted, refused by the limit (429), or refused for the outage (503). */
async function outcome(b: Budgets, t: string, id: string, usd: string): Promise<"admitted" | "limit" | "unavailable"> {
  try {
    return (await ask(b, t, id, usd)).admitted ? "admitted" : "limit";
  } catch (e) {
    if (e instanceof ConnectError && e.code === Code.Unavailable) return "unavailable";
    throw e;
  }
}

describe("budget store outage modes (real Redis through a fault proxy)", () => {
  it("closed: a cut Redis refuses with Unavailable at once; back up, admissions go through Redis again", async () => {
    const store = await replica("closed");
    const b = new Budgets(store, fixed({ tenant: {}, key: {} }));
    const t = tenant();
    expect(await outcome(b, t, `${t}-0`, "0.01")).toBe("admitted");
    proxy.cut();
    expect(await outcome(b, t, `${t}-1`, "0.01")).toBe("unavailable");
    expect(store.available()).toBe(false);
    proxy.heal();
    await until(() => store.available());
    expect(await outcome(b, t, `${t}-2`, "0.01")).toBe("admitted");
  });

  it("open: admits past a hard limit while Redis is cut, and counts it in Redis once it is back", async () => {
    const store = await replica("open");
    const limits = { tenant: {}, key: { day: { hardUsd: "0.05" } } };
    const b = new Budgets(store, fixed(limits));
    const t = tenant();
    proxy.cut();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => outcome(b, t, `${t}-${i}`, "0.01")));
    expect(results.every((r) => r === "admitted")).toBe(true);
    expect(store.outage.journaled()).toBe(20);
    proxy.heal();
    await until(() => store.available());
    const counter = scopesFor(t, "k", limits, new Date())[1]?.counterKey ?? "";
    expect(await store.current(counter)).toBe(usdToNano("0.2"));
  });

  it("local (default): a hard limit is never passed by more than one reservation per replica, two replicas cut together", async () => {
    const [s1, s2] = [await replica("local"), await replica("local")];
    const limits = { tenant: {}, key: { day: { hardUsd: "1" } } };
    const replicas = [new Budgets(s1, fixed(limits)), new Budgets(s2, fixed(limits))];
    const t = tenant();
    // While Redis is up both replicas learn the counter (their own reservations) and the replica count (heartbeat).
    for (let i = 0; i < 6; i++) expect(await outcome(replicas[i % 2] as Budgets, t, `${t}-up${i}`, "0.05")).toBe("admitted");
    await until(() => s1.outage.replicas() === 2 && s2.outage.replicas() === 2);
    await new Promise((r) => setTimeout(r, 250)); // one more heartbeat: both saw the last reservation
    proxy.cut();
    const amount = 0.07;
    let admitted = 0;
    for (let i = 0; i < 40; i++) {
      if ((await outcome(replicas[i % 2] as Budgets, t, `${t}-down${i}`, String(amount))) === "admitted") admitted++;
    }
    const spent = 0.3 + admitted * amount;
    expect(admitted).toBeGreaterThan(0); // the outage does not stop a tenant with budget left
    expect(spent).toBeLessThanOrEqual(1 + 2 * amount); // hard limit + one reservation per replica
    expect(spent).toBeLessThanOrEqual(1); // in fact within it: each keeps to half of what remained
    proxy.heal();
    await until(() => s1.available() && s2.available());
    const counter = scopesFor(t, "k", limits, new Date())[1]?.counterKey ?? "";
    expect(await s1.current(counter)).toBe(usdToNano(spent.toFixed(2)));
    // Back through Redis: the limit holds exactly (what is left, not more).
    let after = 0;
    for (let i = 0; i < 40; i++) if ((await outcome(replicas[i % 2] as Budgets, t, `${t}-after${i}`, String(amount))) === "admitted") after++;
    expect(spent + after * amount).toBeLessThanOrEqual(1 + 1e-9);
  });

  it("a stalled Redis costs one command timeout, then admissions are decided at once until it answers", async () => {
    const store = await replica("local");
    const b = new Budgets(store, fixed({ tenant: {}, key: {} }));
    const t = tenant();
    expect(await outcome(b, t, `${t}-0`, "0.01")).toBe("admitted");
    proxy.stall();
    const first = Date.now();
    expect(await outcome(b, t, `${t}-1`, "0.01")).toBe("admitted"); // unlimited: local admits
    expect(Date.now() - first).toBeGreaterThanOrEqual(TIMEOUT_MS - 50); // it did wait for Redis once
    expect(store.available()).toBe(false);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => outcome(b, t, `${t}-s${i}`, "0.01")));
    expect(results.every((r) => r === "admitted")).toBe(true);
    proxy.heal();
    await until(() => store.available());
    expect(store.outage.journaled()).toBe(0);
  });

  it("a replica started while Redis is away starts in outage mode and joins Redis once it answers", async () => {
    proxy.cut();
    const store = await replica("local", 1, false);
    expect(store.available()).toBe(false);
    const t = tenant();
    const unlimited = new Budgets(store, fixed({ tenant: {}, key: {} }));
    const limited = new Budgets(store, fixed({ tenant: {}, key: { day: { hardUsd: "1" } } }));
    expect(await outcome(unlimited, t, `${t}-0`, "0.01")).toBe("admitted");
    expect(await outcome(limited, t, `${t}-1`, "0.01")).toBe("unavailable"); // never saw this budget
    proxy.heal();
    await until(() => store.available());
    expect(await outcome(limited, t, `${t}-2`, "0.01")).toBe("admitted");
  });

  it("a reservation made before the outage and settled during it is settled in Redis on recovery", async () => {
    const store = await replica("local");
    const limits = { tenant: {}, key: {} };
    const b = new Budgets(store, fixed(limits));
    const t = tenant();
    expect(await outcome(b, t, `${t}-0`, "0.5")).toBe("admitted");
    proxy.cut();
    await b.settle(`${t}-0`, "0.125");
    expect(store.available()).toBe(false);
    proxy.heal();
    await until(() => store.available());
    const counter = scopesFor(t, "k", limits, new Date())[1]?.counterKey ?? "";
    expect(await store.current(counter)).toBe(usdToNano("0.125"));
  });
});

describe("rate limits while Redis is away (real Redis through a fault proxy)", () => {
  const perMinute = (n: number, kind: "requests_per_minute" | "tokens_per_minute" = "requests_per_minute") => fixed({ tenant: {}, key: {}, rates: { key: { [kind]: n } } });
  const go = (b: Budgets, t: string, id: string, tokens = 10) => b.reserve({ reservationId: id, tenantId: t, keyId: "k", amountUsd: "0", tokens });

  it("local: two replicas with N requests a minute admit at most N together (each its share, N / 2); back up, the Redis limiter decides again", async () => {
    const [s1, s2] = [await replica("local"), await replica("local")];
    const N = 7;
    const replicas = [new Budgets(s1, perMinute(N)), new Budgets(s2, perMinute(N))];
    const t = tenant();
    await until(() => s1.outage.replicas() === 2 && s2.outage.replicas() === 2);
    proxy.cut();
    const admitted: [number, number] = [0, 0];
    const refused = [];
    for (let i = 0; i < 30; i++) {
      const r = await go(replicas[i % 2] as Budgets, t, `${t}-down${i}`);
      if (r.admitted) admitted[i % 2 === 0 ? 0 : 1]++;
      else refused.push(r);
    }
    expect(s1.available() || s2.available()).toBe(false);
    expect(admitted[0] + admitted[1]).toBeLessThanOrEqual(N);
    for (const a of admitted) expect(a).toBe(Math.floor(N / 2)); // the share's burst; at most ceil(N / 2)
    // The refusals are the usual ones: a rate limit, when to retry (one share interval, 2 × 60 s / N), the headers' status.
    expect(refused).toHaveLength(30 - 2 * Math.floor(N / 2));
    for (const r of refused) {
      expect(r.rateLimited?.refusedBy).toBe("key:requests_per_minute");
      expect(r.rateLimited?.retryAfterMs).toBeGreaterThan(0);
      expect(r.rateLimited?.retryAfterMs).toBeLessThanOrEqual(Math.ceil((2 * 60_000) / N));
      expect(r.rateStatus).toMatchObject({ limitRequests: N, remainingRequests: 0 });
      expect(r.message).toMatch(/Rate limit reached for this key \(requests per minute\)/);
    }
    proxy.heal();
    await until(() => s1.available() && s2.available());
    // Through Redis again: exactly N across both (its limiter did not see the local admissions).
    const after = await Promise.all(Array.from({ length: 20 }, (_, i) => go(replicas[i % 2] as Budgets, t, `${t}-after${i}`)));
    expect(after.filter((r) => r.admitted)).toHaveLength(N);
  });

  it("the replica count is at least outage_min_replicas: one replica seen, 3 assumed, a third of the limit", async () => {
    const store = await replica("local", 3);
    const b = new Budgets(store, perMinute(6));
    const t = tenant();
    proxy.cut();
    const results = [];
    for (let i = 0; i < 6; i++) results.push((await go(b, t, `${t}-${i}`)).admitted);
    expect(results).toEqual([true, true, false, false, false, false]);
  });

  it("local: a token estimate is charged to the share and replaced by the actual tokens at settlement", async () => {
    const store = await replica("local");
    const b = new Budgets(store, perMinute(1000, "tokens_per_minute"));
    const t = tenant();
    proxy.cut();
    expect((await go(b, t, `${t}-a`, 600)).admitted).toBe(true);
    expect((await go(b, t, `${t}-b`, 600)).rateLimited?.refusedBy).toBe("key:tokens_per_minute");
    await b.settle(`${t}-a`, "0.0001", 100);
    const c = await go(b, t, `${t}-c`, 600);
    expect(c.admitted).toBe(true);
    expect(c.rateStatus).toMatchObject({ limitTokens: 1000, remainingTokens: 300 });
    // A retried reservation id is not charged twice.
    expect((await go(b, t, `${t}-c`, 600)).admitted).toBe(true);
    expect((await go(b, t, `${t}-d`, 300)).admitted).toBe(true);
  });

  it("open: admits past the limit while Redis is cut, and counts what passed the share", async () => {
    const store = await replica("open");
    const b = new Budgets(store, perMinute(3));
    const t = tenant();
    proxy.cut();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => go(b, t, `${t}-${i}`)));
    expect(results.every((r) => r.admitted)).toBe(true);
    expect(store.outageRates.admittedOverShare()).toBe(7);
    proxy.heal();
    await until(() => store.available());
  });

  it("closed: refuses with Unavailable (503), not a rate limit, while Redis is cut", async () => {
    const store = await replica("closed");
    const b = new Budgets(store, perMinute(3));
    const t = tenant();
    proxy.cut();
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await outcome(b, t, `${t}-${i}`, "0"));
    expect(results.every((r) => r === "unavailable")).toBe(true);
  });
});
