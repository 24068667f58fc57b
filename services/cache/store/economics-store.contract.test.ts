import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { deleteMatching } from "#libs/redis/delete-matching.ts";
import { afterAll, describe, expect, it } from "vitest";
import type { EconomicsTally } from "../domain/economics-pool.ts";
import type { EconomicsStore } from "./economics-store.ts";
import { MemoryEconomicsStore } from "./memory-economics-store.ts";
import { RedisEconomicsStore } from "./redis-economics-store.ts";

const REDIS_URL = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379";
const prefix = `test:econ:${randomUUID()}`;
const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });

afterAll(async () => {
  // Clean only our unique prefix.
  await deleteMatching(redis, `${prefix}*`);
  redis.disconnect();
});

const tally = (lookups: number, hits: number, msSum: number): EconomicsTally => ({ lookups, hits, msSum });
const adds = (entries: [string, number, EconomicsTally][]): Map<string, Map<number, EconomicsTally>> => {
  const m = new Map<string, Map<number, EconomicsTally>>();
  for (const [c, b, t] of entries) m.set(c, new Map([...(m.get(c) ?? new Map<number, EconomicsTally>()), [b, t]]));
  return m;
};
const none = new Map<string, boolean>();

const stores: [string, (retainMs: number) => EconomicsStore][] = [
  ["memory", () => new MemoryEconomicsStore(10)],
  ["redis", (retainMs) => new RedisEconomicsStore(redis, { prefix: `${prefix}:${randomUUID()}`, retainMs })],
];

describe.each(stores)("EconomicsStore contract: %s", (_name, make) => {
  it("sums what replicas add per category and bucket, and reads back only the asked buckets", async () => {
    const s = make(600_000);
    await s.sync({ add: adds([["faq", 100, tally(3, 1, 1.5)], ["faq", 101, tally(2, 0, 1)], ["code:py", 101, tally(4, 4, 0.25)]]), switched: none, fromBucket: 101, toBucket: 101 });
    const res = await s.sync({ add: adds([["faq", 101, tally(5, 2, 2.5)]]), switched: none, fromBucket: 100, toBucket: 102 });
    expect(res.buckets.get("faq")).toEqual(new Map([[100, tally(3, 1, 1.5)], [101, tally(7, 2, 3.5)]]));
    // A category with a colon in its name keeps it.
    expect(res.buckets.get("code:py")).toEqual(new Map([[101, tally(4, 4, 0.25)]]));
    const later = await s.sync({ add: new Map(), switched: none, fromBucket: 101, toBucket: 101 });
    expect([...(later.buckets.get("faq")?.keys() ?? [])]).toEqual([101]);
    expect(later.states.size).toBe(0);
  });

  it("keeps the last switch per category and counts every replica's switches", async () => {
    const s = make(600_000);
    await s.sync({ add: new Map(), switched: new Map([["faq", false]]), fromBucket: 1, toBucket: 1 });
    const res = await s.sync({ add: new Map(), switched: new Map([["faq", true], ["code", false]]), fromBucket: 1, toBucket: 1 });
    expect(res.states).toEqual(
      new Map([
        ["faq", { on: true, switches: 2 }],
        ["code", { on: false, switches: 1 }],
      ]),
    );
  });
});

describe("RedisEconomicsStore", () => {
  it("lets a bucket expire retainMs after its last add", async () => {
    const s = new RedisEconomicsStore(redis, { prefix: `${prefix}:${randomUUID()}`, retainMs: 150 });
    await s.sync({ add: adds([["faq", 7, tally(1, 1, 1)]]), switched: none, fromBucket: 7, toBucket: 7 });
    await new Promise((r) => setTimeout(r, 400));
    const res = await s.sync({ add: new Map(), switched: none, fromBucket: 7, toBucket: 7 });
    expect(res.buckets.size).toBe(0);
  });
});
