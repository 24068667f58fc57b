import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Budgets, nanoToUsd, type ApplicableLimits, type BudgetLimitSource, type BudgetStore } from "../domain/budget.ts";
import { BudgetLimitRepo } from "./budget-limits.ts";
import { MemoryBudgetStore } from "./budget-store-memory.ts";
import { RedisBudgetStore } from "./budget-store-redis.ts";
import { openTestDb, type TestDb } from "./test-support.ts";

const REDIS_URL = process.env.LLMGW_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const prefix = `test:ledger:${randomBytes(4).toString("hex")}:`;
const redisA = new Redis(REDIS_URL, { lazyConnect: true });
const redisB = new Redis(REDIS_URL, { lazyConnect: true });
let clock = Date.parse("2025-10-15T12:00:00Z");
const now = () => clock;
const memory = new MemoryBudgetStore(now);

// Two "replicas": separate Redis connections, separate Budgets objects, one shared Redis.
const stores: Array<[string, () => [BudgetStore, BudgetStore]]> = [
  ["memory", () => [memory, memory]],
  ["redis (two connections)", () => [new RedisBudgetStore(redisA, prefix, now), new RedisBudgetStore(redisB, prefix, now)]],
];

const fixed = (l: ApplicableLimits): BudgetLimitSource => ({ limitsFor: async () => l });

beforeAll(async () => {
  await redisA.connect();
  await redisB.connect();
});
afterAll(async () => {
  const keys = await redisA.keys(`${prefix}*`);
  if (keys.length > 0) await redisA.del(...keys);
  redisA.disconnect();
  redisB.disconnect();
});

describe.each(stores)("budgets on %s", (_name, make) => {
  it("200 concurrent reservations against a hard limit that fits 20: never over the limit", async () => {
    const [s1, s2] = make();
    const limits = fixed({ tenant: {}, key: { day: { hardUsd: "0.2", softUsd: "0.1" } } });
    const replicas = [new Budgets(s1, limits, { now: () => new Date(clock) }), new Budgets(s2, limits, { now: () => new Date(clock) })];
    const tenant = `t-${randomBytes(3).toString("hex")}`;
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => replicas[i % 2]!.reserve({ reservationId: `${tenant}-r${i}`, tenantId: tenant, keyId: "k", amountUsd: "0.01" })),
    );
    const admitted = results.filter((r) => r.admitted);
    expect(admitted).toHaveLength(20);
    expect(results.filter((r) => !r.admitted).every((r) => r.state === "hard" && r.message.includes("hard"))).toBe(true);
    expect(results.filter((r) => r.state === "soft")).toHaveLength(10); // the 11th..20th pass the soft limit
    const counter = `k:${tenant}:k:day:2025-10-15`;
    expect(nanoToUsd(await s1.current(counter))).toBe("0.2");

    // settle half for less than reserved, release the others: counters hold the actual spend
    const ids = results.map((r, i) => (r.admitted ? `${tenant}-r${i}` : "")).filter(Boolean);
    await Promise.all(ids.map((id, j) => (j % 2 === 0 ? replicas[j % 2]!.settle(id, "0.004") : replicas[j % 2]!.settle(id, ""))));
    expect(nanoToUsd(await s2.current(counter))).toBe("0.04"); // 10 x 0.004
    expect(nanoToUsd(await s2.current(`t:${tenant}:month:2025-10`))).toBe("0.04");
    expect(await replicas[0]!.settle(ids[0]!, "1")).toBe(false); // settled once only
  });

  it("a crashed caller's reservation expires and gives its amount back", async () => {
    const [s1] = make();
    const budgets = new Budgets(s1, fixed({ tenant: { month: { hardUsd: "1" } }, key: {} }), { reservationTtlMs: 60_000, now: () => new Date(clock) });
    const tenant = `t-${randomBytes(3).toString("hex")}`;
    expect((await budgets.reserve({ reservationId: `${tenant}-a`, tenantId: tenant, keyId: "k", amountUsd: "0.9" })).admitted).toBe(true);
    expect((await budgets.reserve({ reservationId: `${tenant}-b`, tenantId: tenant, keyId: "k", amountUsd: "0.2" })).admitted).toBe(false);
    clock += 61_000;
    expect((await budgets.reserve({ reservationId: `${tenant}-c`, tenantId: tenant, keyId: "k", amountUsd: "0.2" })).admitted).toBe(true);
    // the late settle of the expired reservation still records its real cost
    expect(await budgets.settle(`${tenant}-a`, "0.5")).toBe(true);
    expect(nanoToUsd(await s1.current(`t:${tenant}:month:2025-10`))).toBe("0.7");
  });
});

describe("budget limits from the budgets table (PGlite)", () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openTestDb("pglite");
  });
  afterAll(async () => {
    await db?.close();
  });
  it("stores, caches and applies tenant and key limits", async () => {
    const repo = new BudgetLimitRepo(db.sql);
    await repo.set({ tenantId: "acme", keyId: "", period: "month", hardUsd: "100" });
    await repo.set({ tenantId: "acme", keyId: "k1", period: "day", softUsd: "1.5", hardUsd: "2" });
    expect(await repo.limitsFor("acme", "k1")).toEqual({ tenant: { month: { hardUsd: "100" } }, key: { day: { softUsd: "1.5", hardUsd: "2" } } });
    expect(await repo.limitsFor("acme", "k2")).toEqual({ tenant: { month: { hardUsd: "100" } }, key: {} });
    const budgets = new Budgets(new MemoryBudgetStore(), repo);
    expect(await budgets.reserve({ reservationId: "x", tenantId: "acme", keyId: "k1", amountUsd: "1.6" })).toEqual({ admitted: true, state: "soft", message: "soft budget limit passed" });
    expect((await budgets.reserve({ reservationId: "y", tenantId: "acme", keyId: "k1", amountUsd: "0.5" })).admitted).toBe(false);
    expect((await repo.list("acme")).length).toBe(2);
  });
});

describe("limits changed on one replica apply at once on another (PGlite + shared Redis versions)", () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openTestDb("pglite");
  });
  afterAll(async () => {
    await db?.close();
  });

  it("a hard limit set through replica A refuses the next reservation on replica B, whose cache held no limit", async () => {
    const tenant = `v-${randomBytes(3).toString("hex")}`;
    const storeA = new RedisBudgetStore(redisA, prefix, now);
    const storeB = new RedisBudgetStore(redisB, prefix, now);
    // A TTL far beyond the test: only the version can make B reload.
    const repoA = new BudgetLimitRepo(db.sql, 3_600_000, storeA);
    const repoB = new BudgetLimitRepo(db.sql, 3_600_000, storeB);
    const a = new Budgets(storeA, repoA, { now: () => new Date(clock) });
    const b = new Budgets(storeB, repoB, { now: () => new Date(clock) });
    const req = (id: string) => ({ reservationId: `${tenant}-${id}`, tenantId: tenant, keyId: "k", amountUsd: "0.01" });

    expect((await b.reserve(req("1"))).admitted).toBe(true); // B caches: no limits, version 0
    await repoA.set({ tenantId: tenant, keyId: "", period: "day", hardUsd: "0.015" });
    expect(await storeA.version(tenant)).toBe(1);
    expect(await b.reserve(req("2"))).toMatchObject({ admitted: false, state: "hard" });
    expect((await repoB.limitsFor(tenant, "k")).version).toBe(1);
    // Raised again through A: B admits at once too.
    await repoA.set({ tenantId: tenant, keyId: "", period: "day", hardUsd: "1" });
    expect(await b.reserve(req("3"))).toMatchObject({ admitted: true, state: "ok" });
    // Nothing was reserved by the refused or the outdated attempts: 0.01 twice.
    expect(nanoToUsd(await storeB.current(`t:${tenant}:day:2025-10-15`))).toBe("0.02");
  });

  it("the store refuses an outdated guard without reserving anything and reports the current version", async () => {
    const tenant = `g-${randomBytes(3).toString("hex")}`;
    const store = new RedisBudgetStore(redisA, prefix, now);
    await store.bump(tenant);
    await store.bump(tenant);
    const scope = { counterKey: `t:${tenant}:x`, hardNano: null, softNano: null, ttlSeconds: 60 };
    expect(await store.reserve(`${tenant}-1`, [scope], 5, 60_000, { tenantId: tenant, version: 1 })).toEqual({ admitted: false, state: "ok", staleVersion: 2 });
    expect(await store.current(scope.counterKey)).toBe(0);
    // A new reservation also reports the counter after it (the last state seen, for budgets.outage_mode local).
    expect(await store.reserve(`${tenant}-1`, [scope], 5, 60_000, { tenantId: tenant, version: 2 })).toMatchObject({ admitted: true, state: "ok", counters: [5] });
    expect(await store.current(scope.counterKey)).toBe(5);
  });

  it("Redis down: limits still load from the table (unversioned) and a set still lands", async () => {
    const down = new Redis("redis://127.0.0.1:1", { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    const tenant = `d-${randomBytes(3).toString("hex")}`;
    const repo = new BudgetLimitRepo(db.sql, 3_600_000, new RedisBudgetStore(down, prefix, now));
    await repo.set({ tenantId: tenant, keyId: "", period: "month", hardUsd: "3" });
    expect(await repo.limitsFor(tenant, "k")).toEqual({ tenant: { month: { hardUsd: "3" } }, key: {} });
    down.disconnect();
  });
});

describe("MemoryBudgetStore expiry", () => {
  it("expires each reservation at its own time, whatever was settled or reserved in between", async () => {
    let t = 1_000_000;
    const store = new MemoryBudgetStore(() => t);
    const scope = { counterKey: "t:x", hardNano: null, softNano: null, ttlSeconds: 60 };
    await store.reserve("long", [scope], 100, 50_000);
    await store.reserve("short", [scope], 10, 10_000);
    await store.reserve("settled", [scope], 1, 5_000);
    await store.settle("settled", 1);
    t += 9_999;
    expect(await store.current("t:x")).toBe(111);
    t += 1;
    expect(await store.current("t:x")).toBe(101); // "short" gave its 10 back
    await store.reserve("later", [scope], 1_000, 1_000);
    t += 1_000;
    expect(await store.current("t:x")).toBe(101); // "later" too, before "long"
    t += 40_000;
    expect(await store.current("t:x")).toBe(1);
    expect(await store.settle("long", 7)).toBe(true); // a late settle still records the cost
    expect(await store.current("t:x")).toBe(8);
  });
});
