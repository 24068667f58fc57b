import { randomBytes, randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { TenantCipher } from "../domain/privacy/tenant-cipher.ts";
import { RedisSemanticEntries } from "./redis-semantic-entries.ts";
import type { SemanticEntry } from "./semantic-entry.ts";

const redis = new Redis(process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379", { lazyConnect: true, maxRetriesPerRequest: 1 });
const root = `test:sv:${randomUUID()}`;

afterAll(async () => {
  const keys = await redis.keys(`${root}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

const entry = (tenant: string, id: string, o: { namespace?: string; model?: string; createdAt?: number; text?: string } = {}): SemanticEntry => ({
  partition: { tenant, namespace: o.namespace ?? "ns", key: "pk" },
  meta: { id, text: o.text ?? `q ${id}`, createdAt: o.createdAt ?? 1_000, expiresAt: Date.now() + 60_000, model: o.model ?? "m" },
  embedderId: "e@1",
  vector: new Float32Array([0.6, 0.8, 0]),
});

async function loaded(store: RedisSemanticEntries): Promise<string[]> {
  const out: string[] = [];
  await store.load((e) => out.push(`${e.partition.tenant}/${e.meta.id}`));
  return out;
}

describe("RedisSemanticEntries", () => {
  it("loads every tenant's entries oldest first, with their vectors, and bounds each tenant", async () => {
    const store = new RedisSemanticEntries(redis, { prefix: `${root}:${randomUUID()}`, maxEntriesPerTenant: 2 });
    await store.put(entry("a", "a1", { createdAt: 1 }), 60_000);
    await store.put(entry("a", "a3", { createdAt: 3 }), 60_000);
    await store.put(entry("a", "a2", { createdAt: 2 }), 60_000);
    await store.put(entry("b", "b1"), 60_000);
    expect((await loaded(store)).sort()).toEqual(["a/a2", "a/a3", "b/b1"]);
    const order: string[] = [];
    let vec: Float32Array | undefined;
    await store.load((e) => {
      if (e.partition.tenant === "a") order.push(e.meta.id);
      vec = e.vector;
    });
    expect(order).toEqual(["a2", "a3"]);
    expect(Array.from(vec ?? [])).toEqual([Math.fround(0.6), Math.fround(0.8), 0]);
  });

  it("drops by namespace, model and age, or the whole tenant, and removes one entry", async () => {
    const store = new RedisSemanticEntries(redis, { prefix: `${root}:${randomUUID()}` });
    await store.put(entry("t", "old-m1", { model: "m1", createdAt: 100 }), 60_000);
    await store.put(entry("t", "new-m1", { model: "m1", createdAt: 300 }), 60_000);
    await store.put(entry("t", "n2", { namespace: "n2", model: "m2" }), 60_000);
    await store.put(entry("t", "gone"), 60_000);
    await store.put(entry("u", "u1"), 60_000);
    await store.remove("t", "gone");
    expect(await store.drop("t", { model: "m1", createdBefore: 200 })).toBe(1);
    expect((await loaded(store)).sort()).toEqual(["t/n2", "t/new-m1", "u/u1"]);
    expect(await store.drop("t", { namespace: "n2" })).toBe(1);
    expect(await store.drop("t", {})).toBe(1);
    expect(await loaded(store)).toEqual(["u/u1"]);
  });

  it("entries age out with their answer's TTL", async () => {
    const store = new RedisSemanticEntries(redis, { prefix: `${root}:${randomUUID()}` });
    await store.put(entry("t", "short"), 50);
    await store.put(entry("t", "long"), 60_000);
    await new Promise((r) => setTimeout(r, 120));
    expect(await loaded(store)).toEqual(["t/long"]);
  });

  it("holds the question sealed when a master key is set", async () => {
    const prefix = `${root}:${randomUUID()}`;
    const store = new RedisSemanticEntries(redis, { prefix, seal: new TenantCipher(randomBytes(32)) });
    await store.put(entry("t", "s", { text: "my card number tangerine" }), 60_000);
    const keys = await redis.keys(`${prefix}:sv:*:v:*`);
    expect(keys).toHaveLength(1);
    const raw = (await redis.getBuffer(keys[0] as string)) as Buffer;
    expect(raw.includes(Buffer.from("tangerine"))).toBe(false);
    const texts: string[] = [];
    await store.load((e) => texts.push(e.meta.text));
    expect(texts).toEqual(["my card number tangerine"]);
  });
});
