import { randomBytes, randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { TenantCipher } from "../domain/privacy/tenant-cipher.ts";
import { EncryptedExactStore } from "./encrypted-exact-store.ts";
import { RedisExactStore } from "./redis-exact-store.ts";

const redis = new Redis(process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379", { lazyConnect: true, maxRetriesPerRequest: 1 });
const prefix = `test:cache-enc:${randomUUID()}`;

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

describe("EncryptedExactStore over Redis (encryption at rest)", () => {
  const answerText = "The launch code is TANGERINE-42";
  const answer = { completionJson: JSON.stringify({ choices: [{ message: { content: answerText } }] }), model: "gpt-x", createdAt: 5 };

  it("Redis holds no byte of the answer, and the store still serves it", async () => {
    const store = new EncryptedExactStore(new RedisExactStore(redis, prefix), new TenantCipher(randomBytes(32)));
    await store.set("acme", "ns", "k", answer, 60_000);
    const keys = await redis.keys(`${prefix}*:e:*`);
    expect(keys).toHaveLength(1);
    const stored = (await redis.getBuffer(keys[0] as string)) as Buffer;
    expect(stored.includes(Buffer.from("TANGERINE"))).toBe(false);
    expect(stored.includes(Buffer.from("launch code"))).toBe(false);
    expect(await store.get("acme", "ns", "k")).toEqual(answer);
  });

  it("an entry written under another master key is a miss, not garbage", async () => {
    const p = `${prefix}:${randomUUID()}`;
    await new EncryptedExactStore(new RedisExactStore(redis, p), new TenantCipher(randomBytes(32))).set("acme", "ns", "k", answer, 60_000);
    const other = new EncryptedExactStore(new RedisExactStore(redis, p), new TenantCipher(randomBytes(32)));
    expect(await other.get("acme", "ns", "k")).toBeUndefined();
  });

  it("purges by model through the encryption (model and time stay readable)", async () => {
    const p = `${prefix}:${randomUUID()}`;
    const store = new EncryptedExactStore(new RedisExactStore(redis, p), new TenantCipher(randomBytes(32)));
    await store.set("acme", "ns", "a", answer, 60_000);
    await store.set("acme", "ns", "b", { ...answer, model: "other" }, 60_000);
    expect(await store.purge("acme", { model: "gpt-x" })).toBe(1);
    expect(await store.get("acme", "ns", "a")).toBeUndefined();
    expect((await store.get("acme", "ns", "b"))?.model).toBe("other");
  });
});
