// The sync loop over real Redis: two replicas pool their lookups, a switch reaches the other replica on
// its next sync, and a Redis that cannot be reached is counted and leaves the lookups for the next sync.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { Registry } from "prom-client";
import { afterAll, describe, expect, it } from "vitest";
import { economicsConfigSchema, SemanticEconomics } from "./domain/economics.ts";
import { registerCacheMetrics } from "./domain/metrics.ts";
import { startEconomicsSync } from "./economics-sync.ts";
import { RedisEconomicsStore } from "./store/redis-economics-store.ts";

const REDIS_URL = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379";
const prefix = `test:econ-sync:${randomUUID()}`;
const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
const logger = { info: () => undefined, warn: () => undefined };
const config = economicsConfigSchema.parse({ window: 100, minSamples: 60, breakEvenHitRate: 0.15, syncMs: 60_000 });

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

describe("startEconomicsSync", () => {
  it("pools two replicas' lookups in Redis and writes a switch at once", async () => {
    const store = new RedisEconomicsStore(redis, { prefix, retainMs: 3_600_000 });
    const a = new SemanticEconomics(config, undefined, { pooled: true });
    const b = new SemanticEconomics(config, undefined, { pooled: true });
    const published: string[][] = [];
    const syncA = startEconomicsSync({ economics: a, store, logger, onSynced: (c) => published.push(c) });
    const syncB = startEconomicsSync({ economics: b, store, logger });
    try {
      expect(await syncA.sync()).toBe(true);
      expect(await syncB.sync()).toBe(true);
      for (let i = 0; i < 35; i++) a.record("support", false, 1);
      for (let i = 0; i < 35; i++) b.record("support", false, 1);
      await syncA.sync();
      await syncB.sync();
      expect(b.get("support")).toMatchObject({ semanticOn: false, lookups: 70 });
      // b's second round within the same sync wrote the switch: a reads it now.
      expect(await redis.hget(`${prefix}:econ:state`, "support")).toBe("0");
      await syncA.sync();
      expect(a.get("support")).toMatchObject({ semanticOn: false, lookups: 70, switches: 1 });
      expect(published.at(-1)).toEqual(["support"]);
    } finally {
      syncA.stop();
      syncB.stop();
    }
  });

  it("counts a sync Redis does not answer, and sends its lookups with the next one", async () => {
    const registry = new Registry();
    const metrics = registerCacheMetrics(registry);
    const down = new Redis("redis://127.0.0.1:1", { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true, retryStrategy: () => null });
    const e = new SemanticEconomics(config, undefined, { pooled: true });
    const failing = startEconomicsSync({ economics: e, store: new RedisEconomicsStore(down, { prefix, retainMs: 60_000 }), logger, metrics });
    try {
      for (let i = 0; i < 5; i++) e.record("faq", true, 1);
      expect(await failing.sync()).toBe(false);
      expect(await registry.metrics()).toContain("llmgw_cache_economics_sync_failures_total 1");
    } finally {
      failing.stop();
      down.disconnect();
    }
    const healthy = startEconomicsSync({ economics: e, store: new RedisEconomicsStore(redis, { prefix: `${prefix}:2`, retainMs: 60_000 }), logger });
    try {
      expect(await healthy.sync()).toBe(true);
      expect(e.get("faq")).toMatchObject({ lookups: 5, hits: 5 });
    } finally {
      healthy.stop();
    }
  });
});
