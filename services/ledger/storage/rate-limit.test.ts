// Rate limits through the budget stores (the Lua script on a real Redis, and the memory store) and
// the Budgets admission: exact under concurrency from two "replicas", refill, token estimate
// corrected at settlement, a refused request charges nothing, and the budget and the rate limits
// decided in one step.
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Budgets, type ApplicableLimits, type BudgetLimitSource, type BudgetStore } from "../domain/budget.ts";
import { gcra, limitersFor } from "../domain/rate-limit.ts";
import { MemoryBudgetStore } from "./budget-store-memory.ts";
import { RedisBudgetStore } from "./budget-store-redis.ts";

const REDIS_URL = process.env.LLMGW_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const prefix = `test:ratelimit:${randomBytes(4).toString("hex")}:`;
const redisA = new Redis(REDIS_URL, { lazyConnect: true });
const redisB = new Redis(REDIS_URL, { lazyConnect: true });
let clock = Date.parse("2025-10-15T12:00:00Z");
const now = () => clock;

const stores: Array<[string, () => [BudgetStore, BudgetStore]]> = [
  [
    "memory",
    () => {
      const m = new MemoryBudgetStore(now);
      return [m, m];
    },
  ],
  ["redis (two connections)", () => [new RedisBudgetStore(redisA, prefix, now), new RedisBudgetStore(redisB, prefix, now)]],
];

const fixed = (l: ApplicableLimits): BudgetLimitSource => ({ limitsFor: async () => l });
const tenantId = () => `t-${randomBytes(3).toString("hex")}`;
let seq = 0;
const rid = () => `r-${++seq}-${randomBytes(3).toString("hex")}`;

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

describe("gcra (the reference arithmetic)", () => {
  it("admits a full burst of `limit`, then one per period/limit", () => {
    let tat: number | undefined;
    const t0 = 1_000_000;
    const admitted = [];
    for (let i = 0; i < 7; i++) {
      const s = gcra(tat, t0, 1, 5, 60_000);
      if (s.allowed) tat = s.newTat;
      admitted.push(s.allowed);
    }
    expect(admitted).toEqual([true, true, true, true, true, false, false]);
    const refused = gcra(tat, t0, 1, 5, 60_000);
    expect(refused.retryAfterMs).toBe(12_000);
    expect(refused.remaining).toBe(0);
    expect(refused.resetMs).toBe(60_000);
    expect(gcra(tat, t0 + 12_000, 1, 5, 60_000).allowed).toBe(true);
  });

  it("names the limiters of a tenant and a key, each window separately", () => {
    const ls = limitersFor("acme", "k1", { tenant: { requests_per_minute: 10 }, key: { tokens_per_minute: 100, requests_per_day: 1000 } });
    expect(ls.map((l) => [l.name, l.kind, l.limit, l.periodMs])).toEqual([
      ["tenant:requests_per_minute", "requests", 10, 60_000],
      ["key:tokens_per_minute", "tokens", 100, 60_000],
      ["key:requests_per_day", "requests", 1000, 86_400_000],
    ]);
  });
});

describe.each(stores)("rate limits on %s", (_name, make) => {
  it("N requests per minute, 60 concurrent from two replicas: exactly N admitted, the rest told when to retry", async () => {
    const [s1, s2] = make();
    const limits = fixed({ tenant: {}, key: {}, rates: { key: { requests_per_minute: 7 } } });
    const replicas = [new Budgets(s1, limits), new Budgets(s2, limits)];
    const t = tenantId();
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => replicas[i % 2]!.reserve({ reservationId: rid(), tenantId: t, keyId: "k", amountUsd: "0.001", tokens: 10 })));
    const admitted = results.filter((r) => r.admitted);
    expect(admitted).toHaveLength(7);
    const refused = results.filter((r) => !r.admitted);
    expect(refused.every((r) => r.rateLimited?.refusedBy === "key:requests_per_minute" && r.rateLimited.retryAfterMs > 0 && r.rateLimited.retryAfterMs <= 60_000 / 7 + 1)).toBe(true);
    expect(refused[0]?.message).toMatch(/Rate limit reached for this key \(requests per minute\)/);
    // The headers' view: what is left after each admission, down to 0.
    expect(admitted.map((r) => r.rateStatus?.remainingRequests).sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(admitted.every((r) => r.rateStatus?.limitRequests === 7 && r.rateStatus.limitTokens === 0)).toBe(true);
    expect(refused[0]?.rateStatus).toMatchObject({ limitRequests: 7, remainingRequests: 0 });
  });

  it("refills at limit/period: one more request after period/limit", async () => {
    const [s1] = make();
    const b = new Budgets(s1, fixed({ tenant: {}, key: {}, rates: { tenant: { requests_per_minute: 2 } } }));
    const t = tenantId();
    const go = () => b.reserve({ reservationId: rid(), tenantId: t, keyId: "k", amountUsd: "0" });
    expect((await go()).admitted).toBe(true);
    expect((await go()).admitted).toBe(true);
    const refused = await go();
    expect(refused.admitted).toBe(false);
    expect(refused.rateLimited?.retryAfterMs).toBe(30_000);
    clock += 30_000;
    expect((await go()).admitted).toBe(true);
    expect((await go()).admitted).toBe(false);
  });

  it("tokens: the estimate is charged at admission and replaced by the actual usage at settlement", async () => {
    const [s1, s2] = make();
    const b1 = new Budgets(s1, fixed({ tenant: {}, key: {}, rates: { key: { tokens_per_minute: 1000 } } }));
    const b2 = new Budgets(s2, fixed({ tenant: {}, key: {}, rates: { key: { tokens_per_minute: 1000 } } }));
    const t = tenantId();
    const first = await b1.reserve({ reservationId: "tok-a-" + t, tenantId: t, keyId: "k", amountUsd: "0", tokens: 600 });
    expect(first.admitted).toBe(true);
    expect(first.rateStatus).toMatchObject({ limitTokens: 1000, remainingTokens: 400 });
    // 600 more do not fit while the estimate stands...
    const second = await b2.reserve({ reservationId: rid(), tenantId: t, keyId: "k", amountUsd: "0", tokens: 600 });
    expect(second.admitted).toBe(false);
    expect(second.rateLimited?.refusedBy).toBe("key:tokens_per_minute");
    // ...the answer used 100 tokens in all: 900 left, so they fit now.
    await b1.settle("tok-a-" + t, "0.0001", 100);
    const third = await b2.reserve({ reservationId: "tok-c-" + t, tenantId: t, keyId: "k", amountUsd: "0", tokens: 600 });
    expect(third.admitted).toBe(true);
    expect(third.rateStatus?.remainingTokens).toBe(300);
    // Usage over the estimate is a debt: 600 estimated, 1000 used → 100 over the limit, nothing fits.
    await b2.settle("tok-c-" + t, "0.0001", 1000);
    const fourth = await b1.reserve({ reservationId: rid(), tenantId: t, keyId: "k", amountUsd: "0", tokens: 1 });
    expect(fourth.admitted).toBe(false);
    expect(fourth.rateLimited?.retryAfterMs).toBeGreaterThan(6_000);
  });

  it("a released request gives its token estimate back, not its request", async () => {
    const [s1] = make();
    const b = new Budgets(s1, fixed({ tenant: {}, key: {}, rates: { key: { tokens_per_minute: 100, requests_per_minute: 2 } } }));
    const t = tenantId();
    const id = rid();
    expect((await b.reserve({ reservationId: id, tenantId: t, keyId: "k", amountUsd: "0", tokens: 90 })).admitted).toBe(true);
    await b.release(id);
    const again = await b.reserve({ reservationId: rid(), tenantId: t, keyId: "k", amountUsd: "0", tokens: 90 });
    expect(again.admitted).toBe(true);
    expect(again.rateStatus).toMatchObject({ remainingTokens: 10, remainingRequests: 0 });
    const third = await b.reserve({ reservationId: rid(), tenantId: t, keyId: "k", amountUsd: "0", tokens: 1 });
    expect(third.rateLimited?.refusedBy).toBe("key:requests_per_minute");
  });

  it("the tenant's limit holds across its keys; a refusal by the budget or a rate limit charges neither", async () => {
    const [s1, s2] = make();
    const t = tenantId();
    const limits = fixed({ tenant: { day: { hardUsd: "0.03" } }, key: {}, rates: { tenant: { requests_per_minute: 3 } } });
    const b1 = new Budgets(s1, limits);
    const b2 = new Budgets(s2, limits);
    // The budget refuses the 2nd (0.02 + 0.02 > 0.03): its request is not counted by the rate limit.
    expect((await b1.reserve({ reservationId: rid(), tenantId: t, keyId: "k1", amountUsd: "0.02" })).admitted).toBe(true);
    const overBudget = await b2.reserve({ reservationId: rid(), tenantId: t, keyId: "k2", amountUsd: "0.02" });
    expect(overBudget).toMatchObject({ admitted: false, state: "hard" });
    expect(overBudget.rateLimited).toBeUndefined();
    expect((await b2.reserve({ reservationId: rid(), tenantId: t, keyId: "k2", amountUsd: "0.001" })).rateStatus?.remainingRequests).toBe(1);
    expect((await b1.reserve({ reservationId: rid(), tenantId: t, keyId: "k3", amountUsd: "0.001" })).admitted).toBe(true);
    // The rate limit refuses the 4th: its amount is not reserved (0.022 spent, 0.008 still fits).
    expect((await b2.reserve({ reservationId: rid(), tenantId: t, keyId: "k1", amountUsd: "0.008" })).rateLimited?.refusedBy).toBe("tenant:requests_per_minute");
    clock += 20_000;
    expect((await b2.reserve({ reservationId: rid(), tenantId: t, keyId: "k1", amountUsd: "0.008" })).admitted).toBe(true);
  });

  it("no rate limits: no status, nothing stored", async () => {
    const [s1] = make();
    const r = await new Budgets(s1, fixed({ tenant: {}, key: {} })).reserve({ reservationId: rid(), tenantId: tenantId(), keyId: "k", amountUsd: "0", tokens: 5 });
    expect(r.admitted).toBe(true);
    expect(r.rateStatus === undefined || (r.rateStatus.limitRequests === 0 && r.rateStatus.limitTokens === 0)).toBe(true);
  });
});

describe("rate limits on redis without an injected clock", () => {
  it("uses Redis's clock (one for every replica)", async () => {
    const b = new Budgets(new RedisBudgetStore(redisA, prefix), fixed({ tenant: {}, key: {}, rates: { key: { requests_per_day: 1 } } }));
    const t = tenantId();
    expect((await b.reserve({ reservationId: rid(), tenantId: t, keyId: "k", amountUsd: "0" })).admitted).toBe(true);
    const refused = await b.reserve({ reservationId: rid(), tenantId: t, keyId: "k", amountUsd: "0" });
    expect(refused.rateLimited?.refusedBy).toBe("key:requests_per_day");
    expect(refused.rateLimited?.retryAfterMs).toBeGreaterThan(86_000_000);
  });
});
