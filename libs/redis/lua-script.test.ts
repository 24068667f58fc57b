import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { luaScript } from "./lua-script.ts";

const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", { lazyConnect: false, maxRetriesPerRequest: 1 });
afterAll(() => redis.disconnect());

describe("luaScript", () => {
  const key = `llmgw:test:lua:${process.pid}:${Date.now()}`;
  const script = luaScript(`return redis.call('INCRBY', KEYS[1], ARGV[1]) .. ':${key}'`);

  it("runs by SHA after the first call and again after the server forgot it", async () => {
    expect(await script.run(redis, 1, key, 2)).toBe(`2:${key}`);
    expect(await redis.script("EXISTS", script.sha)).toEqual([1]);
    expect(await script.run(redis, 1, key, 3)).toBe(`5:${key}`);
    await redis.script("FLUSH");
    expect(await redis.script("EXISTS", script.sha)).toEqual([0]);
    expect(await script.run(redis, 1, key, 1)).toBe(`6:${key}`);
    await redis.del(key);
  });

  it("passes the script's own errors through", async () => {
    const bad = luaScript("return redis.error_reply('boom')");
    await expect(bad.run(redis, 0)).rejects.toThrow("boom");
  });
});
