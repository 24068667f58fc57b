import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { deleteMatching } from "#libs/redis/delete-matching.ts";
import { afterAll, describe, expect, it } from "vitest";
import type { CachedAnswer } from "../domain/types.ts";
import type { ExactStore } from "./exact-store.ts";
import { MemoryExactStore } from "./memory-exact-store.ts";
import { RedisExactStore } from "./redis-exact-store.ts";

const REDIS_URL = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379";
const prefix = `test:cache:${randomUUID()}`;
const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });

afterAll(async () => {
  // Clean only our unique prefix.
  await deleteMatching(redis, `${prefix}*`);
  redis.disconnect();
});

const answer = (text: string): CachedAnswer => ({ completionJson: JSON.stringify({ text }), model: "m", createdAt: 1 });

const stores: [string, () => ExactStore][] = [
  ["memory", () => new MemoryExactStore()],
  ["redis", () => new RedisExactStore(redis, `${prefix}:${randomUUID()}`)],
];

describe.each(stores)("ExactStore contract: %s", (_name, make) => {
  it("round-trips an answer and misses unknown keys", async () => {
    const s = make();
    await s.set("t1", "ns", "k", answer("a"), 60_000);
    expect(await s.get("t1", "ns", "k")).toEqual(answer("a"));
    expect(await s.get("t1", "ns", "other")).toBeUndefined();
  });

  it("never serves another tenant's or namespace's entry", async () => {
    const s = make();
    await s.set("tA", "ns", "k", answer("a"), 60_000);
    expect(await s.get("tB", "ns", "k")).toBeUndefined();
    expect(await s.get("tA", "ns2", "k")).toBeUndefined();
  });

  it("invalidates a namespace without touching the others, then the whole tenant", async () => {
    const s = make();
    await s.set("t", "n1", "k1", answer("1"), 60_000);
    await s.set("t", "n2", "k2", answer("2"), 60_000);
    await s.set("u", "n1", "k1", answer("u"), 60_000);
    await s.invalidate("t", "n1");
    expect(await s.get("t", "n1", "k1")).toBeUndefined();
    expect(await s.get("t", "n2", "k2")).toEqual(answer("2"));
    await s.invalidate("t");
    expect(await s.get("t", "n2", "k2")).toBeUndefined();
    expect(await s.get("u", "n1", "k1")).toEqual(answer("u"));
    // Writes after invalidation are visible again.
    await s.set("t", "n1", "k1", answer("new"), 60_000);
    expect(await s.get("t", "n1", "k1")).toEqual(answer("new"));
  });

  it("deletes one entry and skips ttl 0", async () => {
    const s = make();
    await s.set("t", "n", "k", answer("1"), 60_000);
    await s.delete("t", "n", "k");
    expect(await s.get("t", "n", "k")).toBeUndefined();
    await s.set("t", "n", "z", answer("1"), 0);
    expect(await s.get("t", "n", "z")).toBeUndefined();
  });
});

describe("MemoryExactStore specifics", () => {
  it("expires by TTL on its clock", async () => {
    let now = 1000;
    const s = new MemoryExactStore({ now: () => now });
    await s.set("t", "n", "k", answer("1"), 500);
    now = 1499;
    expect(await s.get("t", "n", "k")).toBeDefined();
    now = 1500;
    expect(await s.get("t", "n", "k")).toBeUndefined();
  });

  it("evicts the least recently used entry past the tenant bound", async () => {
    const s = new MemoryExactStore({ maxEntriesPerTenant: 2 });
    await s.set("t", "n", "a", answer("a"), 60_000);
    await s.set("t", "n", "b", answer("b"), 60_000);
    await s.get("t", "n", "a"); // a is now most recent
    await s.set("t", "n", "c", answer("c"), 60_000);
    expect(await s.get("t", "n", "b")).toBeUndefined();
    expect(await s.get("t", "n", "a")).toBeDefined();
    expect(await s.get("t", "n", "c")).toBeDefined();
    await s.set("u", "n", "x", answer("x"), 60_000);
    expect(s.size("t")).toBe(2);
  });

  it("holds at most maxBytes across tenants: the tenant holding most loses its oldest entries", async () => {
    const big = (c: string) => ({ completionJson: c.repeat(10_000), model: "m", createdAt: 0 });
    // Each entry ~20 kB (two bytes a character): five fit in 110 kB.
    const s = new MemoryExactStore({ maxBytes: 110_000 });
    await s.set("small", "n", "s1", big("s"), 60_000);
    for (const k of ["a", "b", "c", "d", "e", "f"]) await s.set("heavy", "n", k, big(k), 60_000);
    expect(s.bytes()).toBeLessThanOrEqual(110_000);
    // The heavy tenant paid for its own growth; the small one kept its entry.
    expect(await s.get("small", "n", "s1")).toBeDefined();
    expect(await s.get("heavy", "n", "a")).toBeUndefined();
    expect(await s.get("heavy", "n", "f")).toBeDefined();
    // An entry past the whole bound is not stored at all; replacing, deleting and invalidating give bytes back.
    await s.set("heavy", "n", "huge", big("h".repeat(10)), 60_000);
    expect(await s.get("heavy", "n", "huge")).toBeUndefined();
    const before = s.bytes();
    await s.set("heavy", "n", "f", big("f"), 60_000);
    expect(s.bytes()).toBe(before);
    await s.delete("heavy", "n", "f");
    expect(s.bytes()).toBeLessThan(before);
    await s.invalidate("heavy");
    expect(s.bytes()).toBe(s.bytes("small"));
    await s.invalidate("small", "n");
    expect(s.bytes()).toBe(0);
  });
});

describe.each(stores)("ExactStore purge by model, age and namespace: %s", (_name, make) => {
  const at = (model: string, createdAt: number): CachedAnswer => ({ completionJson: "{}", model, createdAt });

  it("drops only the given model's answers", async () => {
    const s = make();
    await s.set("t", "ns", "a", at("m1", 10), 60_000);
    await s.set("t", "ns", "b", at("m2", 10), 60_000);
    await s.set("other", "ns", "a", at("m1", 10), 60_000);
    expect(await s.purge("t", { model: "m1" })).toBe(1);
    expect(await s.get("t", "ns", "a")).toBeUndefined();
    expect(await s.get("t", "ns", "b")).toEqual(at("m2", 10));
    expect(await s.get("other", "ns", "a")).toEqual(at("m1", 10));
  });

  it("drops answers created before a time, within one namespace when given", async () => {
    const s = make();
    await s.set("t", "n1", "old", at("m", 100), 60_000);
    await s.set("t", "n1", "new", at("m", 300), 60_000);
    await s.set("t", "n2", "old", at("m", 100), 60_000);
    expect(await s.purge("t", { namespace: "n1", createdBefore: 200 })).toBe(1);
    expect(await s.get("t", "n1", "old")).toBeUndefined();
    expect(await s.get("t", "n1", "new")).toEqual(at("m", 300));
    expect(await s.get("t", "n2", "old")).toEqual(at("m", 100));
    expect(await s.purge("t", { model: "m", createdBefore: 200 })).toBe(1);
    expect(await s.get("t", "n2", "old")).toBeUndefined();
  });
});

describe("RedisExactStore specifics", () => {
  it("sets a PX TTL on entries", async () => {
    const p = `${prefix}:${randomUUID()}`;
    const s = new RedisExactStore(redis, p);
    await s.set("t", "n", "k", answer("1"), 50_000);
    const keys = await redis.keys(`${p}*:e:*`);
    expect(keys).toHaveLength(1);
    const pttl = await redis.pttl(keys[0] as string);
    expect(pttl).toBeGreaterThan(40_000);
    expect(pttl).toBeLessThanOrEqual(50_000);
  });
});
