// Issue #14 part 3, done-when: two cache replicas of one mesh (each with its own Redis and NATS
// connections, as two processes would have), called through their own gRPC servers. An entry stored
// through one is a semantic hit through the other, both replicas restarted still hit it (rebuilt from
// Redis), and an invalidation through one empties the other's index (JetStream). The per-category
// economics are pooled in Redis: a category whose lookups miss through both replicas is switched off on
// both, and a restarted replica starts switched off. Real Redis and NATS.
import { randomBytes, randomUUID } from "node:crypto";
import { connect } from "nats";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "@connectrpc/connect";
import { cacheIndexNames } from "#libs/bus/provision.ts";
import { loadConfig } from "#libs/config/load.ts";
import type { Config } from "#libs/config/schema.ts";
import { readSettings, type Settings } from "#libs/config/settings.ts";
import { CacheControl, CacheService } from "#libs/gen/llmgw/cache/v1/cache_pb.ts";
import { createLogger } from "#libs/log/logger.ts";
import { loadPriceTable } from "#libs/pricing/index.ts";
import { createMeshClient, meshClients } from "#libs/rpc/mesh-client.ts";
import { meshBackends } from "#services/compose/mesh-backends.ts";
import { serveRow } from "#services/compose/serve-row.ts";
// A long question reworded (can→could, make→produce): a semantic hit, not an exact one.
import { ORIGINAL, PARAPHRASE } from "./support/semantic.ts";

const ns = `t${randomUUID().slice(0, 8)}`;
const tenant = `acme-${randomBytes(3).toString("hex")}`;
const ANSWER = JSON.stringify({ id: "c1", object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content: "Photosynthesis turns light into sugar." }, finish_reason: "stop" }] });

const config: Config = loadConfig({ env: {} });
// The store's Redis writes get time enough on a loaded machine (the default 20 ms budget is for serving).
// Economics: decided after 20 pooled semantic lookups, synced every 200 ms, no probes.
config.cache = { ...config.cache, storeBudgetMs: 5_000, economics: { window: 40, minSamples: 20, breakEvenHitRate: 0.15, probeShare: 0, syncMs: 200 } };
const settings: Settings = {
  ...readSettings({}, config),
  cachePrefix: `llmgw:${ns}:cache`,
  bus: { stream: `LLMGW_${ns.toUpperCase()}`, prefix: `llmgw.${ns}` },
  // Sealed at rest: the shared entries' text goes through the tenant cipher too.
  cacheMasterKey: randomBytes(32).toString("hex"),
};
const logger = createLogger("cache-shared-test", { level: "warn" });

interface Replica {
  client: Client<typeof CacheService>;
  metricsUrl: string;
  stop(): Promise<void>;
}

async function startReplica(rpcPort: number, adminPort: number): Promise<Replica> {
  const backends = meshBackends(settings, logger, config);
  const ctx = { config, settings, logger, prices: loadPriceTable(settings.pricesFile), backends, clients: meshClients(config.services) };
  const served = await serveRow("cache", ctx, { host: "127.0.0.1", rpcPort, adminPort, drainTimeoutMs: 1_000, defaultMetrics: false });
  return {
    client: createMeshClient(CacheService, `127.0.0.1:${rpcPort}`, "connect", 10_000),
    metricsUrl: `http://127.0.0.1:${served.running.adminPort}/metrics`,
    async stop() {
      await served.running.stop();
      await backends.close();
    },
  };
}

const key = (text: string, control = CacheControl.DEFAULT) => ({
  context: { tenantId: tenant },
  scope: "tier:standard",
  messages: [{ role: "user", content: text }],
  paramsJson: "{}",
  category: "static_knowledge",
  control,
});

async function indexEntries(r: Replica): Promise<number> {
  const text = await (await fetch(r.metricsUrl)).text();
  const m = /^llmgw_cache_semantic_index_entries(?:\{[^}]*\})? (\d+)/m.exec(text);
  return m ? Number(m[1]) : -1;
}

/** Stores this replica failed to persist or publish, or dropped (none expected with Redis and NATS up). */
async function unshared(r: Replica): Promise<number> {
  const text = await (await fetch(r.metricsUrl)).text();
  const counts = [...text.matchAll(/^llmgw_cache_semantic_index_unshared_writes\{[^}]*\} (\d+)/gm)].map((m) => Number(m[1]));
  return counts.length === 2 ? counts.reduce((x, y) => x + y, 0) : -1;
}

async function until<T>(probe: () => Promise<T | undefined>, ms = 10_000): Promise<T | undefined> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const paraphraseVia = (r: Replica) => r.client.lookup({ key: key(PARAPHRASE, CacheControl.NO_STORE) });

describe("semantic cache shared by two mesh replicas (Redis + JetStream)", () => {
  let a: Replica;
  let b: Replica;

  beforeAll(async () => {
    [a, b] = await Promise.all([startReplica(27101, 27111), startReplica(27102, 27112)]);
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled([a?.stop(), b?.stop()]);
    const nc = await connect({ servers: settings.natsUrl });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(settings.bus.stream).catch(() => false);
    await jsm.streams.delete(cacheIndexNames(settings.bus).stream).catch(() => false);
    await nc.close();
    const redis = new Redis(settings.redisUrl);
    const keys = await redis.keys(`llmgw:${ns}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  }, 30_000);

  it("stored through A is a semantic hit through B, survives a restart of both, and an invalidation through A empties B", async () => {
    expect(await paraphraseVia(b)).toMatchObject({ hit: false });
    const stored = await a.client.store({ key: key(ORIGINAL), completionJson: ANSWER, model: "gpt-4o-mini" });
    expect(stored).toMatchObject({ stored: true, reason: "" });

    const onB = await until(async () => {
      const r = await paraphraseVia(b);
      return r.hit ? r : undefined;
    });
    expect(onB?.layer).toBe("semantic");
    expect(onB?.completionJson).toBe(ANSWER);
    expect(await indexEntries(a)).toBe(1);
    expect(await indexEntries(b)).toBe(1);
    expect(await unshared(a)).toBe(0);

    // Restart both (new processes' worth of connections and indexes, same Redis and stream).
    await Promise.all([a.stop(), b.stop()]);
    [a, b] = await Promise.all([startReplica(27103, 27113), startReplica(27104, 27114)]);
    expect(await indexEntries(b)).toBe(1);
    const afterRestart = await paraphraseVia(b);
    expect(afterRestart).toMatchObject({ hit: true, layer: "semantic", completionJson: ANSWER });
    expect(await paraphraseVia(a)).toMatchObject({ hit: true, layer: "semantic" });

    // Invalidation through A: B's index drops the entry (not merely an orphan left behind).
    await a.client.invalidate({ tenantId: tenant });
    expect(await indexEntries(a)).toBe(0);
    expect(await until(async () => ((await indexEntries(b)) === 0 ? true : undefined))).toBe(true);
    expect(await paraphraseVia(b)).toMatchObject({ hit: false });

    // A store after the invalidation reaches B again, and invalidation by model removes it from both.
    await b.client.store({ key: key(ORIGINAL), completionJson: ANSWER, model: "gpt-4o-mini" });
    expect(await until(async () => ((await indexEntries(a)) === 1 ? true : undefined))).toBe(true);
    await b.client.invalidate({ tenantId: tenant, model: "gpt-4o-mini" });
    expect(await until(async () => ((await indexEntries(a)) === 0 ? true : undefined))).toBe(true);
    expect(await indexEntries(b)).toBe(0);
  }, 60_000);

  it("pools the per-category economics: misses through both switch the category off on both, and after a restart", async () => {
    const economicsKey = (text: string) => ({ ...key(text, CacheControl.NO_STORE), category: "code" });
    // Eleven misses through each: neither replica alone reaches minSamples (20).
    for (let i = 0; i < 11; i++) {
      expect(await a.client.lookup({ key: economicsKey(`how do I parse flag number ${i} in a shell script`) })).toMatchObject({ hit: false });
      expect(await b.client.lookup({ key: economicsKey(`which regex matches version ${i} of a semver string`) })).toMatchObject({ hit: false });
    }
    const off = (r: Replica) =>
      until(async () => {
        const e = (await r.client.getEconomics({})).categories.find((c) => c.category === "code");
        return e && !e.semanticOn ? e : undefined;
      });
    const offA = await off(a);
    const offB = await off(b);
    expect(offA).toMatchObject({ lookups: 22n, hits: 0n, switches: 1n });
    expect(offB).toMatchObject({ lookups: 22n, switches: 1n });
    expect(await a.client.lookup({ key: economicsKey("how do I parse yet another flag") })).toMatchObject({ hit: false, reason: "semantic-off:economics" });

    await Promise.all([a.stop(), b.stop()]);
    [a, b] = await Promise.all([startReplica(27105, 27115), startReplica(27106, 27116)]);
    // The start waited for the first read of the pool: off before any lookup of this replica.
    const economics = await b.client.getEconomics({});
    expect(economics.pooled).toBe(true);
    expect(economics.categories.find((c) => c.category === "code")).toMatchObject({ semanticOn: false, lookups: 22n });
    expect(await b.client.lookup({ key: economicsKey("which regex matches a date") })).toMatchObject({ hit: false, reason: "semantic-off:economics" });
  }, 60_000);
});
