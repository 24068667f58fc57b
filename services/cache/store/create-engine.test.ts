import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { createCacheEngine } from "./create-engine.ts";

const redis = new Redis(process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379", { lazyConnect: true });
const prefix = `test:cache:${randomUUID()}`;
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

const req = (content: string, tenant = "t") => ({
  tenant,
  scope: "tier:cheap",
  messages: [{ role: "user", content }],
  params: { temperature: 0 },
  category: "static_knowledge",
  cacheControl: "default" as const,
});
const answer = { completionJson: "{}", model: "m", createdAt: 1 };

describe("createCacheEngine", () => {
  it("embedded wiring works end to end", async () => {
    const engine = createCacheEngine();
    await engine.store(req("What is the capital of France?"), answer);
    expect(await engine.lookup(req("what's the capital of france"))).toMatchObject({ hit: true, layer: "semantic" });
  });

  it("Redis exact layer + in-process semantic layer work end to end, tenants apart", async () => {
    // Connect first: a cold connection can exceed the 20 ms store budget (the store is then skipped, by design).
    await redis.ping();
    const engine = createCacheEngine({ redis, redisPrefix: prefix });
    await engine.store(req("What is the capital of France?"), answer);
    expect(await engine.lookup(req("What is the capital of France?"))).toMatchObject({ hit: true, layer: "exact" });
    expect(await engine.lookup(req("what's the capital of france"))).toMatchObject({ hit: true, layer: "semantic" });
    expect((await engine.lookup(req("What is the capital of France?", "other"))).hit).toBe(false);
    await engine.invalidate({ tenant: "t" });
    expect((await engine.lookup(req("What is the capital of France?"))).hit).toBe(false);
  });
});
