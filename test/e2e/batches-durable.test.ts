// Issue #12's done-when, embedded mode: a 1,000-line batch (named and "auto" lines, some answered by
// the exact cache from earlier live requests, some failing at the provider) submitted with the openai
// SDK; the whole gateway is closed while the provider batches run and rebuilt on the same PGlite data
// directory. Every line comes back exactly once in input order, the error file holds exactly the failed
// lines, no provider batch is created twice, and the ledger has exactly one row per succeeded line,
// priced at the batch price (cached lines at 0 provider cost).
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { PGlite } from "@electric-sql/pglite";
import OpenAI, { toFile } from "openai";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { silentLogger } from "#libs/log/logger.ts";
import { computeCost, fromOpenAIUsageJson, loadPriceTable } from "#libs/pricing/index.ts";
import { startSimulator, type Simulator } from "#libs/simulator/server.ts";
import { startEmbedded } from "#services/embedded/compose.ts";
import { startMesh, type Mesh } from "#services/mesh/compose.ts";
import { DATABASE_URL } from "./support-ledger/ledger-db.ts";
import type { ServiceClients } from "#libs/rpc/service-clients.ts";
import { Registry } from "prom-client";
import { BatchWorker, IDEMPOTENCY_KEY } from "#services/edge/batch-worker.ts";
import { tablePricing } from "#services/edge/pricing.ts";
import { providerCustomId, providerCustomIdPrefix } from "#services/edge/batch-custom-id.ts";
import { batchLine, batchTestConfig, jsonl, waitForStatus } from "./support/batches.ts";

const ADMIN = "llmgw-durable-admin-key-0123456789";
const LINES = 1_000;
const MODELS = ["gpt-4o-mini", "auto", "gpt-4.1-nano", "auto", "claude-3-5-haiku-latest"];
const cachedLine = (i: number) => i % 50 === 7;
const failingLine = (i: number) => i % 40 === 3;
const text = (i: number) => `Batch durability question number ${i}: name a colour${failingLine(i) ? " sim-fail" : ""}.`;

interface Running {
  url: string;
  clients: ServiceClients;
  stop(): Promise<void>;
}

interface Db {
  query<T>(sql: string, params: unknown[]): Promise<{ rows: T[] }>;
  close(): Promise<void>;
}

let stopOnFailure: () => Promise<void> | undefined = () => undefined;

/**
 * n lines submitted through start()'s gateway; once every sub-batch is at the provider the gateway is
 * stopped and start() called again on the same state; then everything is checked, the ledger last
 * (openDb after the final stop).
 */
async function scenario(sim: Simulator, n: number, tenantId: string, start: () => Promise<Running>, openDb: () => Promise<Db>): Promise<void> {
    let t = performance.now();
    const phase = (what: string) => {
      const now = performance.now();
      console.log(`batches-durable (${n} lines): ${what} ${Math.round(now - t)} ms`);
      t = now;
    };
    let gw: Running | undefined = await start();
    stopOnFailure = () => gw?.stop();
    phase("start");
    const key = (await gw.clients.ledger.createKey({ tenantId, name: "e2e" })).key;
    const client = (url: string) => new OpenAI({ baseURL: `${url}/v1`, apiKey: key, maxRetries: 2 });
    let c = client(gw.url);

    // Earlier live requests, identical to some batch lines: the batch answers those from the cache.
    const cachedIdx = Array.from({ length: n }, (_, i) => i).filter((i) => cachedLine(i) && !failingLine(i));
    for (const i of cachedIdx) {
      const model = MODELS[i % MODELS.length] ?? "auto";
      // refresh: stored as its own exact entry, not answered by a similar earlier prompt (semantic layer).
      await c.chat.completions.create({ model, messages: [{ role: "user", content: text(i) }], max_tokens: 50 }, { headers: { "x-llmgw-cache": "refresh" } });
    }
    // The cache stores after the answer, and only what its rules allow (per category): the lines the
    // batch must answer from the cache are those a live repeat gets as an exact hit.
    const probe = async (i: number) => {
      const { response } = await c.chat.completions.create({ model: MODELS[i % MODELS.length] ?? "auto", messages: [{ role: "user", content: text(i) }], max_tokens: 50 }).withResponse();
      return response.headers.get("x-llmgw-cache");
    };
    await vi.waitFor(async () => {
      if ((await probe(cachedIdx.at(-1) ?? 0)) === null) throw new Error("no cache header");
    }, { timeout: 10_000, interval: 100 });
    const exactHits: number[] = [];
    for (const i of cachedIdx) if ((await probe(i)) === "hit-exact") exactHits.push(i);
    expect(exactHits.length).toBeGreaterThanOrEqual(2);

    phase("live requests and cache probes");
    const input = Array.from({ length: n }, (_, i) => batchLine(`req-${i}`, MODELS[i % MODELS.length] ?? "auto", text(i))).join("\n");
    const file = await c.files.create({ file: await toFile(Buffer.from(input), "big.jsonl"), purpose: "batch" });
    const created = await c.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
    expect(created.request_counts?.total).toBe(n);
    phase("upload and create");

    // Wait until every line is routed and every sub-batch is at the provider, then restart mid-batch.
    const running = await vi.waitFor(async () => {
      const subs = (await gw!.clients.ledger.listSubBatches({ batchId: created.id })).subBatches;
      const b = await c.batches.retrieve(created.id);
      // Sub-batches are created one model at a time: all are there once no line waits in "routed".
      const unsent = (await gw!.clients.ledger.getBatchLines({ batchId: created.id, states: ["routed"], limit: 1 })).lines.length;
      if (b.status !== "in_progress" || subs.length === 0 || unsent > 0 || subs.some((s) => s.state !== "submitted")) throw new Error(`batch ${b.status}, sub-batches ${subs.map((s) => s.state).join(",")}, unsent ${unsent}`);
      return { b, subs };
    }, { timeout: 90_000, interval: 100 });
    expect(running.b.status).toBe("in_progress");
    phase("route lines and submit");
    await gw.stop();
    gw = undefined;
    gw = await start();
    c = client(gw.url);
    phase("restart");

    const done = await waitForStatus(c, created.id, (s) => s === "completed", 60_000);
    phase("provider batches done, collected, assembled");
    const failing = Array.from({ length: n }, (_, i) => i).filter(failingLine);
    expect(done.request_counts).toEqual({ total: n, completed: n - failing.length, failed: failing.length });

    const out = jsonl(await (await c.files.content(done.output_file_id ?? "")).text());
    const errs = jsonl(await (await c.files.content(done.error_file_id ?? "")).text());
    const succeeded = Array.from({ length: n }, (_, i) => i).filter((i) => !failingLine(i));
    expect(out.map((l) => l.custom_id)).toEqual(succeeded.map((i) => `req-${i}`));
    expect(errs.map((l) => l.custom_id)).toEqual(failing.map((i) => `req-${i}`));
    for (const l of out) expect(l.response?.status_code).toBe(200);
    for (const l of errs) expect(l.response?.status_code).toBe(500);

    // One provider batch per sub-batch key: none submitted twice across the restart.
    const provider = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: "sim", maxRetries: 0 });
    const keys: string[] = [];
    for await (const pb of provider.batches.list({ limit: 100 })) {
      const k = pb.metadata?.[IDEMPOTENCY_KEY];
      if (k?.startsWith(`${created.id}:`)) keys.push(k);
    }
    const openaiSubs = running.subs.filter((s) => !s.model.startsWith("claude")).map((s) => s.key);
    expect(keys.sort()).toEqual(openaiSubs.sort());

    // Let the ledger take every event, then read it directly.
    await vi.waitFor(async () => {
      const res = await fetch(`${gw!.url}/v1/llmgw/spend?since=1h`, { headers: { authorization: `Bearer ${key}` } });
      const body = (await res.json()) as { total: { requests: number } };
      if (body.total.requests < succeeded.length) throw new Error(`ledger has ${body.total.requests}`);
    }, { timeout: 20_000, interval: 200 });
    // The lines the batch answered from the cache, as it recorded them. Which prompts the exact cache
    // holds at routing time can move under load (a store lands after its answer; a probe that missed
    // stores one), so the probes above only show the cache is in play; the bill is checked against this.
    const fromCache: number[] = [];
    for (let from = 0; ; ) {
      const { lines } = await gw.clients.ledger.getBatchLines({ batchId: created.id, fromIndex: from, limit: 1_000, states: ["succeeded"] });
      for (const l of lines) if (l.cached) fromCache.push(l.index);
      const last = lines.at(-1);
      if (lines.length < 1_000 || last === undefined) break;
      from = last.index + 1;
    }
    expect(fromCache.length).toBeGreaterThanOrEqual(2);
    // Only prompts asked live before the batch can be in the exact cache.
    expect(fromCache.every((i) => cachedIdx.includes(i))).toBe(true);
    await gw.stop();
    gw = undefined;

    phase("ledger caught up, stop");
    const db = await openDb();
    try {
      const rows = (await db.query<{ request_id: string; model: string; cost_usd: string; cache_outcome: string; batch: boolean }>(`SELECT request_id, model, cost_usd::text, cache_outcome, batch FROM requests WHERE request_id LIKE $1`, [`${created.id}:%`])).rows;
      expect(rows.length).toBe(succeeded.length);
      expect(new Set(rows.map((r) => r.request_id)).size).toBe(rows.length);
      expect(rows.map((r) => Number(r.request_id.split(":")[1])).sort((a, b) => a - b)).toEqual(succeeded);
      expect(rows.every((r) => r.batch)).toBe(true);
      const cachedRows = rows.filter((r) => r.cache_outcome === "hit_exact");
      expect(cachedRows.map((r) => Number(r.request_id.split(":")[1])).sort((a, b) => a - b)).toEqual(fromCache);
      for (const r of cachedRows) expect(Number(r.cost_usd)).toBe(0);

      // Each sent line costs its usage at the batch price of the model that answered it.
      const prices = loadPriceTable();
      const byId = new Map(rows.map((r) => [r.request_id, r]));
      const at = new Date();
      let checked = 0;
      for (const l of out) {
        const idx = Number(l.custom_id.slice(4));
        if (fromCache.includes(idx)) continue;
        const row = byId.get(`${created.id}:${idx}`);
        const body = l.response?.body;
        if (!row || !body) throw new Error(`no row or body for ${l.custom_id}`);
        const want = computeCost(prices, fromOpenAIUsageJson(body.usage), row.model, at, { batch: true });
        expect(want.unpriced).toBe(false);
        expect(Number(row.cost_usd)).toBeCloseTo(Number(want.costUsd), 12);
        checked++;
      }
      expect(checked).toBe(succeeded.length - fromCache.length);
      const calls = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM calls WHERE request_id LIKE $1 AND kind = 'batch'`, [`${created.id}:%`])).rows[0]?.n;
      expect(calls).toBe(succeeded.length - fromCache.length);
    } finally {
      await db.close();
    }
}

type Embedded = Awaited<ReturnType<typeof startEmbedded>>;

/** An embedded gateway on in-memory state, for the tests that play a crashed worker. */
const startInMemory = (sim: Simulator, config: ReturnType<typeof batchTestConfig>): Promise<Embedded> =>
  startEmbedded({ port: 0, host: "127.0.0.1", dataDir: "memory", simulatorUrl: sim.url, config, env: { LLMGW_API_KEY: ADMIN }, logger: silentLogger() });

/** A new tenant's OpenAI client, and a batch of `lines` (JSONL lines) submitted through it. */
async function submitBatch(e: Embedded, tenantId: string, lines: string[]): Promise<{ c: OpenAI; b: OpenAI.Batches.Batch }> {
  const key = (await e.clients.ledger.createKey({ tenantId, name: "e2e" })).key;
  const c = new OpenAI({ baseURL: `${e.url}/v1`, apiKey: key, maxRetries: 0 });
  const file = await c.files.create({ file: await toFile(Buffer.from(lines.join("\n")), "in.jsonl"), purpose: "batch" });
  return { c, b: await c.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" }) };
}

/**
 * What a worker did before it died: the batch's first `n` lines routed to `model`, the batch in
 * progress, its sub-batch recorded "submitting", and nothing recorded after that. Returns the sub-batch key.
 */
async function crashedSubBatch(e: Embedded, batchId: string, model: string, provider: string, n: number): Promise<string> {
  const subKey = `${batchId}:${model}`;
  const indexes = Array.from({ length: n }, (_, i) => i);
  await e.clients.ledger.updateBatchLines({ batchId, lines: indexes.map((index) => ({ index, state: "routed", model, provider, subBatchKey: subKey })) });
  await e.clients.ledger.updateBatchJob({ job: { id: batchId, status: "in_progress", inProgressAt: BigInt(Math.floor(Date.now() / 1000)) }, expectedStatuses: ["validating"] });
  await e.clients.ledger.putSubBatch({ subBatch: { batchId, key: subKey, model, provider, state: "submitting" } });
  return subKey;
}

/** A batch worker run by hand (the gateway's own is off in these tests). */
const handWorker = (config: ReturnType<typeof batchTestConfig>, e: Embedded): BatchWorker =>
  new BatchWorker({ config, clients: e.clients, events: e.bus, pricing: tablePricing(loadPriceTable()), logger: silentLogger(), registry: new Registry(), ready: async () => true });

/** Ticks the worker until the batch is completed. */
const tickUntilCompleted = (worker: BatchWorker, c: OpenAI, batchId: string, timeout: number): Promise<OpenAI.Batches.Batch> =>
  vi.waitFor(
    async () => {
      await worker.tick();
      const now = await c.batches.retrieve(batchId);
      if (now.status !== "completed") throw new Error(`batch ${now.status}`);
      return now;
    },
    { timeout, interval: 200 },
  );

describe("batches survive a restart (embedded, 1,000 lines)", () => {
  let sim: Simulator;
  let dir: string;
  const start = () => startEmbedded({ port: 0, host: "127.0.0.1", dataDir: dir, simulatorUrl: sim.url, config: batchTestConfig(), env: { LLMGW_API_KEY: ADMIN }, logger: silentLogger() });

  beforeAll(async () => {
    // Provider batches take 4 s: long enough to restart the gateway while they run.
    sim = await startSimulator({ port: 0, batchDelayMs: 4_000 });
    dir = await mkdtemp(join(tmpdir(), "llmgw-batches-"));
  }, 60_000);

  afterAll(async () => {
    await sim?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("every line back exactly once, in order, billed once at batch price", async () => {
    try {
      await scenario(sim, LINES, "durable-tenant", start, async () => new PGlite(join(dir, "ledger")));
    } finally {
      await stopOnFailure();
    }
  }, 240_000);

  it("a sub-batch left 'submitting' by a crash is found at the provider by its key, not submitted again", async () => {
    // The worker is off in this gateway: the test plays the crashed worker, then runs a fresh one by hand.
    const config = batchTestConfig();
    config.batches.worker = false;
    const e = await startInMemory(sim, config);
    try {
      const { c, b } = await submitBatch(e, "crash-tenant", [0, 1, 2].map((i) => batchLine(`k-${i}`, "gpt-4o-mini", `Crash recovery question ${i}.`)));

      // The crashed worker's state, and the provider batch it had created under the sub-batch key.
      const subKey = await crashedSubBatch(e, b.id, "gpt-4o-mini", "openai", 3);
      // Plain `l<index>` ids, as the worker wrote them before the sub-batch tag: batches in flight still parse.
      const providerJsonl = [0, 1, 2].map((i) => JSON.stringify({ custom_id: `l${i}`, method: "POST", url: "/v1/chat/completions", body: { model: "gpt-4o-mini", messages: [{ role: "user", content: `Crash recovery question ${i}.` }], max_tokens: 50 } })).join("\n");
      const ctx = { requestId: "crashed", tenantId: "crash-tenant", keyId: "", traceId: "" };
      await e.clients.executor.createBatch({ context: ctx, model: "gpt-4o-mini", inputJsonl: new TextEncoder().encode(providerJsonl), endpoint: "/v1/chat/completions", completionWindow: "24h", metadata: { [IDEMPOTENCY_KEY]: subKey } });

      const worker = handWorker(config, e);
      const done = await tickUntilCompleted(worker, c, b.id, 20_000);
      // Exactly one worker across replicas: a second one finds the lease held and does nothing.
      const other = handWorker(config, e);
      expect(await other.tick()).toBe(false);
      expect(other.waiting().count).toBe(0);
      await worker.stop();
      expect(done.request_counts).toEqual({ total: 3, completed: 3, failed: 0 });
      expect(jsonl(await (await c.files.content(done.output_file_id ?? "")).text()).map((l) => l.custom_id)).toEqual(["k-0", "k-1", "k-2"]);
      const provider = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: "sim", maxRetries: 0 });
      let copies = 0;
      for await (const pb of provider.batches.list({ limit: 100 })) if (pb.metadata?.[IDEMPOTENCY_KEY] === subKey) copies++;
      expect(copies).toBe(1);
    } finally {
      await e.stop();
    }
  }, 120_000);

  it("Anthropic (no batch metadata): a sub-batch left 'submitting' is recognised by its custom_id prefix once the provider batch ends, and adopted", async () => {
    const config = batchTestConfig();
    config.batches.worker = false;
    const e = await startInMemory(sim, config);
    const model = "claude-3-5-haiku-latest";
    try {
      const { c, b } = await submitBatch(e, "crash-anthropic", [0, 1, 2].map((i) => batchLine(`a-${i}`, model, `Anthropic crash recovery question ${i}.`)));

      // The crashed worker's state, as in the OpenAI case; the provider batch carries the key only in its custom_ids.
      const subKey = await crashedSubBatch(e, b.id, model, "anthropic", 3);
      const ctx = { requestId: "crashed", tenantId: "crash-anthropic", keyId: "", traceId: "" };
      const providerJsonl = (ids: string[]) => new TextEncoder().encode(ids.map((id, i) => JSON.stringify({ custom_id: id, method: "POST", url: "/v1/chat/completions", body: { model, messages: [{ role: "user", content: `Anthropic crash recovery question ${i}.` }], max_tokens: 50 } })).join("\n"));
      const ours = await e.clients.executor.createBatch({ context: ctx, model, inputJsonl: providerJsonl([0, 1, 2].map((i) => providerCustomId(subKey, i))), endpoint: "/v1/chat/completions", completionWindow: "24h" });
      const oursId = String((JSON.parse(new TextDecoder().decode(ours.batchJson)) as { id: string }).id);
      // Someone else's batch, newer: scanned first, and not ours.
      await e.clients.executor.createBatch({ context: ctx, model, inputJsonl: providerJsonl(["other-0", "other-1"]), endpoint: "/v1/chat/completions", completionWindow: "24h" });

      const worker = handWorker(config, e);
      // While the provider batch runs (4 s) the lookup is pending: the sub-batch waits, its lines neither fail nor go again.
      await worker.tick();
      const waiting = await e.clients.ledger.listSubBatches({ batchId: b.id });
      expect(waiting.subBatches.map((s) => [s.state, s.providerBatchId])).toEqual([["submitting", ""]]);
      expect((await c.batches.retrieve(b.id)).status).toBe("in_progress");
      const done = await tickUntilCompleted(worker, c, b.id, 20_000);
      await worker.stop();
      expect((await e.clients.ledger.listSubBatches({ batchId: b.id })).subBatches.map((s) => s.providerBatchId)).toEqual([oursId]);
      expect(done.request_counts).toEqual({ total: 3, completed: 3, failed: 0 });
      expect(jsonl(await (await c.files.content(done.output_file_id ?? "")).text()).map((l) => l.custom_id)).toEqual(["a-0", "a-1", "a-2"]);
      // Exactly one provider batch holds this sub-batch's lines, each once.
      const provider = new Anthropic({ baseURL: sim.url, apiKey: "sim", maxRetries: 0 });
      const prefix = providerCustomIdPrefix(subKey);
      const seen: string[] = [];
      for await (const pb of provider.messages.batches.list({ limit: 100 })) {
        if (pb.processing_status !== "ended") continue;
        for await (const r of await provider.messages.batches.results(pb.id)) if (r.custom_id.startsWith(prefix)) seen.push(`${pb.id}/${r.custom_id}`);
      }
      expect(seen.sort()).toEqual([0, 1, 2].map((i) => `${oursId}/${providerCustomId(subKey, i)}`));
    } finally {
      await e.stop();
    }
  }, 60_000);

  it("Anthropic: a sub-batch left 'submitting' whose provider batch was never created is submitted once the candidates have ended", async () => {
    const config = batchTestConfig();
    config.batches.worker = false;
    const e = await startInMemory(sim, config);
    const model = "claude-3-5-haiku-latest";
    try {
      const { c, b } = await submitBatch(e, "crash-anthropic-2", [0, 1].map((i) => batchLine(`n-${i}`, model, `Never submitted question ${i}.`)));
      const subKey = await crashedSubBatch(e, b.id, model, "anthropic", 2);
      const worker = handWorker(config, e);
      const done = await tickUntilCompleted(worker, c, b.id, 30_000);
      await worker.stop();
      expect(done.request_counts).toEqual({ total: 2, completed: 2, failed: 0 });
      const provider = new Anthropic({ baseURL: sim.url, apiKey: "sim", maxRetries: 0 });
      const prefix = providerCustomIdPrefix(subKey);
      let copies = 0;
      for await (const pb of provider.messages.batches.list({ limit: 100 })) {
        if (pb.processing_status !== "ended") continue;
        for await (const r of await provider.messages.batches.results(pb.id)) if (r.custom_id.startsWith(prefix)) copies++;
      }
      expect(copies).toBe(2);
    } finally {
      await e.stop();
    }
  }, 60_000);

  it("a batch not finished within its completion window expires: provider batch cancelled, its lines in the error file", async () => {
    const config = batchTestConfig();
    config.batches.expiry_seconds = 3;
    const e = await startInMemory(sim, config);
    try {
      const { c, b } = await submitBatch(e, "expiry-tenant", [0, 1].map((i) => batchLine(`x-${i}`, "gpt-4o-mini", `Expiry question ${i}.`)));
      // The simulator holds provider batches 4 s from their submission; the window here is 3 s from creation.
      const done = await waitForStatus(c, b.id, (s) => s === "expired", 15_000);
      expect(done.expired_at).toBeGreaterThan(0);
      expect(done.request_counts).toEqual({ total: 2, completed: 0, failed: 2 });
      const errs = jsonl(await (await c.files.content(done.error_file_id ?? "")).text());
      expect(errs.map((l) => [l.custom_id, l.error?.code])).toEqual([["x-0", "batch_expired"], ["x-1", "batch_expired"]]);
      const provider = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: "sim", maxRetries: 0 });
      const mine: string[] = [];
      for await (const pb of provider.batches.list({ limit: 100 })) if (pb.metadata?.[IDEMPOTENCY_KEY]?.startsWith(`${b.id}:`)) mine.push(pb.status);
      // Submitted before the window closed (unless the machine was too slow to route two lines in 3 s), then cancelled.
      expect(mine.length).toBeLessThanOrEqual(1);
      for (const status of mine) expect(status).toBe("cancelled");
    } finally {
      await e.stop();
    }
  }, 120_000);
});

describe("batches survive a restart of the whole mesh (edge, executor and ledger; 1,000 lines)", () => {
  let sim: Simulator;
  let last: Mesh | undefined;
  const ns = `t${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    sim = await startSimulator({ port: 0, batchDelayMs: 4_000 });
  }, 60_000);

  afterAll(async () => {
    await last?.purge();
    await sim?.close();
  });

  it("every line back exactly once, in order, billed once at batch price", async () => {
    // Same namespace each start: the same PostgreSQL schema, JetStream stream and Redis keys.
    const start = async (): Promise<Running> => {
      const m = await startMesh({ simulatorUrl: sim.url, logger: silentLogger(), config: batchTestConfig(), namespace: ns });
      last = m;
      return { url: m.url, clients: m.clients, stop: () => m.stop() };
    };
    const openDb = async (): Promise<Db> => {
      const schema = last?.ledgerSchema ?? "";
      if (!/^\w+$/.test(schema)) throw new Error(`unexpected schema ${schema}`);
      const client = new pg.Client({ connectionString: DATABASE_URL });
      await client.connect();
      await client.query(`SET search_path TO "${schema}"`);
      return { query: async <T,>(sql: string, params: unknown[]) => ({ rows: (await client.query(sql, params)).rows as T[] }), close: () => client.end() };
    };
    try {
      await scenario(sim, LINES, "durable-mesh-tenant", start, openDb);
    } finally {
      await stopOnFailure();
    }
  }, 240_000);
});
