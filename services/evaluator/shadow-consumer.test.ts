// ShadowConsumer on a semantic cache hit's audit: the replay (a fake executor through Connect's in-process
// transport) is the fresh answer the cached one is judged against; the verdict goes to PGlite (the
// evaluator's real migrations) apart from the downgrade evidence, and ShadowEvaluated says it was an audit.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { createClient, createRouterTransport, type ServiceImpl } from "@connectrpc/connect";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { BusMessage } from "#libs/bus/event-bus.ts";
import { MemoryEventBus } from "#libs/bus/memory-bus.ts";
import { subjects } from "#libs/bus/subjects.ts";
import { loadConfig } from "#libs/config/load.ts";
import { Tier } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import { ShadowEvaluatedSchema, ShadowTestRequestedSchema, type ShadowEvaluated } from "#libs/gen/llmgw/events/v1/events_pb.ts";
import { ExecutorService, type ExecuteRequest } from "#libs/gen/llmgw/executor/v1/executor_pb.ts";
import { silentLogger } from "#libs/log/logger.ts";
import { loadPriceTable } from "#libs/pricing/price-table.ts";
import { openDatabase, type OpenedDatabase } from "#libs/sql/open-database.ts";
import { ShadowConsumer } from "./shadow-consumer.ts";
import { EVALUATOR_MIGRATIONS } from "./storage/migrations.ts";
import { ShadowResultStore } from "./storage/shadow-results.ts";

const encoder = new TextEncoder();
const completion = (content: string) =>
  encoder.encode(JSON.stringify({ id: "chatcmpl-1", object: "chat.completion", created: 0, model: "gpt-4o-mini", choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content } }], usage: { prompt_tokens: 20, completion_tokens: 8, total_tokens: 28 } }));

let db: OpenedDatabase;
let store: ShadowResultStore;
const bus = new MemoryEventBus();
const registry = new Registry();
const executed: ExecuteRequest[] = [];
let freshAnswer = "";
/** Fresh answers by question (the last user message), for the baseline replays; others get freshAnswer. */
const answersFor: Record<string, string> = {};
const decoder = new TextDecoder();
const lastUser = (json: Uint8Array): string => {
  const body = JSON.parse(decoder.decode(json)) as { messages: { role: string; content: string }[] };
  return body.messages.filter((m) => m.role === "user").at(-1)?.content ?? "";
};

const executor: Partial<ServiceImpl<typeof ExecutorService>> = {
  async *execute(req) {
    executed.push(req);
    yield { event: { case: "completionJson", value: completion(answersFor[lastUser(req.requestJson)] ?? freshAnswer) } };
    const usage = { inputTokens: 20n, outputTokens: 8n };
    yield { event: { case: "summary", value: { model: "gpt-4o-mini", provider: "openai", usage, attempts: [{ model: "gpt-4o-mini", provider: "openai", status: "ok", usage, latencyMs: 5n }] } } };
  },
};

let consumer: ShadowConsumer;
const evaluated: ShadowEvaluated[] = [];

beforeAll(async () => {
  db = await openDatabase("pglite:memory", { migrations: [EVALUATOR_MIGRATIONS] });
  store = new ShadowResultStore(db.sql);
  consumer = new ShadowConsumer({
    bus,
    executor: createClient(ExecutorService, createRouterTransport((r) => r.service(ExecutorService, executor))),
    store,
    config: loadConfig({ env: {} }),
    prices: loadPriceTable(),
    logger: silentLogger(),
    registry,
  });
  await bus.subscribe({ durable: "test-evaluated", filterSubject: subjects(bus.names).shadowEvaluated, maxBatch: 10, maxWaitMs: 0 }, async (msgs) => {
    for (const m of msgs) {
      evaluated.push(fromBinary(ShadowEvaluatedSchema, m.data));
      m.ack();
    }
  });
});
afterAll(async () => {
  await bus.close();
  await db.close();
});

function audit(requestId: string, cached: string, cacheQuestion = ""): BusMessage & { ack: ReturnType<typeof vi.fn>; nak: ReturnType<typeof vi.fn> } {
  const ev = create(ShadowTestRequestedSchema, {
    context: { requestId, tenantId: "acme", keyId: "k1" },
    requestJson: encoder.encode(JSON.stringify({ model: "auto", messages: [{ role: "user", content: "A train travels 84 km in 2 hours. How far does it go in 1 hour?" }] })),
    servedModel: "gpt-4o-mini",
    servedCompletionJson: completion(cached),
    candidateModel: "gpt-4o-mini",
    category: "math",
    tier: Tier.LOW,
    cacheAudit: true,
    cacheSimilarity: 0.93,
    cacheQuestion,
    cacheEntry: `entry-of-${requestId}`,
  });
  return { subject: subjects(bus.names).shadowRequested, data: toBinary(ShadowTestRequestedSchema, ev), deliveryCount: 1, ack: vi.fn(), nak: vi.fn(), term: vi.fn() };
}

async function auditCount(verdict: string): Promise<number> {
  const m = (await registry.getSingleMetric("llmgw_cache_audits_total")?.get())?.values.find((v) => v.labels.verdict === verdict && v.labels.category === "math");
  return m?.value ?? 0;
}

describe("ShadowConsumer: cache audits", () => {
  it("judges the cached answer against a fresh one of the model that wrote it, and records the verdict apart", async () => {
    const t0 = new Date(Date.now() - 1000);
    freshAnswer = "It covers half the distance: the answer is 42.";
    const fits = audit("audit-fits", "Divide by two; the answer is 42.");
    await consumer.handle(fits);
    freshAnswer = "The answer is 40.";
    const wrong = audit("audit-wrong", "Divide by two; the answer is 42.");
    await consumer.handle(wrong);
    expect(fits.ack).toHaveBeenCalledOnce();
    expect(wrong.ack).toHaveBeenCalledOnce();

    // Replayed on the model that wrote the cached answer.
    expect(executed.map((e) => e.candidates.map((c) => c.model))).toEqual([["gpt-4o-mini"], ["gpt-4o-mini"]]);
    expect(await store.cacheQuality(t0)).toEqual([{ category: "math", audits: 2, wrong: 1, wrongHitRate: 0.5, low: expect.any(Number), high: expect.any(Number), baselineAudits: 0, baselineWrong: 0, baselineHigh: 0, baselineLow: 0, cuts: [{ similarity: 0.93, audits: 2, wrong: 1, high: expect.any(Number) }], refutedEntries: 1 }]);
    expect(await store.cacheQuality(t0, "someone-else")).toEqual([]);
    // Not downgrade evidence, not a policy arm's quality.
    expect(await store.report("acme")).toEqual([]);
    expect(await store.policyQuality(t0)).toEqual([]);
    expect(await store.trainingRows(t0, "acme")).toEqual([]);
    const kept = await db.sql.query<{ request_id: string; direction: string; cache_similarity: number; cache_entry: string; input: unknown }>("SELECT request_id, direction, cache_similarity, cache_entry, input FROM shadow_results ORDER BY request_id");
    expect(kept.rows).toEqual([
      { request_id: "audit-fits", direction: "cache", cache_similarity: 0.93, cache_entry: "entry-of-audit-fits", input: null },
      { request_id: "audit-wrong", direction: "cache", cache_similarity: 0.93, cache_entry: "entry-of-audit-wrong", input: null },
    ]);
    // The refuted hit bars its entry; the confirmed one does not.
    expect(await store.refutedEntries(t0)).toEqual([{ tenantId: "acme", entryId: "entry-of-audit-wrong", category: "math", similarity: 0.93 }]);

    await vi.waitFor(() => expect(evaluated).toHaveLength(2));
    const byId = Object.fromEntries(evaluated.map((e) => [e.context?.requestId, e]));
    expect(byId["audit-fits"]).toMatchObject({ cacheAudit: true, ok: true, servedModel: "gpt-4o-mini", candidateModel: "gpt-4o-mini" });
    expect(byId["audit-wrong"]).toMatchObject({ cacheAudit: true, ok: false });
    expect(byId["audit-wrong"]?.cacheSimilarity).toBeCloseTo(0.93, 6);
    // The replay is a shadow call the ledger records (never billed to the tenant).
    expect(byId["audit-wrong"]?.call).toMatchObject({ kind: "shadow", model: "gpt-4o-mini", status: "ok" });
    expect(await auditCount("fits")).toBe(1);
    expect(await auditCount("wrong")).toBe(1);
  });

  it("a redelivered audit is not judged twice", async () => {
    const before = executed.length;
    const again = audit("audit-fits", "Divide by two; the answer is 42.");
    await consumer.handle(again);
    expect(again.ack).toHaveBeenCalledOnce();
    expect(executed.length).toBe(before);
  });

  it("with the cached question, also replays it: the baseline says how often the judge rejects an answer to its own question", async () => {
    const math = async () => (await store.cacheQuality(new Date(0))).find((r) => r.category === "math");
    const was = await math();
    const before = executed.length;
    const cachedQuestion = "A car covers 84 km in 2 hours; what distance does it cover in 1 hour?";
    answersFor[cachedQuestion] = "Half of 84: the answer is 42.";
    freshAnswer = "The answer is 40.";
    const m = audit("audit-baseline", "Divide by two; the answer is 42.", cachedQuestion);
    await consumer.handle(m);
    expect(m.ack).toHaveBeenCalledOnce();
    // Two replays (side by side) on the model that wrote the answer: this question and the cached one.
    const runs = executed.slice(before);
    expect(runs.map((r) => [r.candidates[0]?.model, lastUser(r.requestJson)]).sort()).toEqual([
      ["gpt-4o-mini", cachedQuestion],
      ["gpt-4o-mini", "A train travels 84 km in 2 hours. How far does it go in 1 hour?"],
    ]);
    const row = await db.sql.query<{ ok: boolean; cache_baseline_ok: boolean; candidate_cost_usd: string }>("SELECT ok, cache_baseline_ok, candidate_cost_usd::text AS candidate_cost_usd FROM shadow_results WHERE request_id = 'audit-baseline'");
    // A wrong hit (40 against the cached 42), while the cached answer fits its own question (42).
    expect(row.rows[0]).toMatchObject({ ok: false, cache_baseline_ok: true });
    const q = await math();
    expect(q).toMatchObject({ audits: (was?.audits ?? 0) + 1, wrong: (was?.wrong ?? 0) + 1, baselineAudits: 1, baselineWrong: 0 });
    expect(q?.baselineHigh).toBeGreaterThan(0);

    await vi.waitFor(() => expect(evaluated.find((e) => e.context?.requestId === "audit-baseline")).toBeDefined());
    const ev = evaluated.find((e) => e.context?.requestId === "audit-baseline");
    expect(ev).toMatchObject({ cacheAudit: true, ok: false, cacheBaseline: true, cacheBaselineOk: true });
    // Both replays are shadow calls for the ledger, each with its own id, and the recorded cost is both.
    expect(ev?.call?.callId).toBe("audit-baseline:shadow");
    expect(ev?.baselineCall?.callId).toBe("audit-baseline:shadow-baseline");
    const one = Number((await db.sql.query<{ c: string }>("SELECT candidate_cost_usd::text AS c FROM shadow_results WHERE request_id = 'audit-fits'")).rows[0]?.c);
    expect(Number(row.rows[0]?.candidate_cost_usd)).toBeCloseTo(2 * one, 12);
  });

  it("an audit without the cached question runs no baseline", async () => {
    const kept = await db.sql.query<{ request_id: string; cache_baseline_ok: boolean | null }>("SELECT request_id, cache_baseline_ok FROM shadow_results WHERE request_id IN ('audit-fits', 'audit-wrong') ORDER BY request_id");
    expect(kept.rows).toEqual([
      { request_id: "audit-fits", cache_baseline_ok: null },
      { request_id: "audit-wrong", cache_baseline_ok: null },
    ]);
    const fits = evaluated.find((e) => e.context?.requestId === "audit-fits");
    expect(fits?.cacheBaseline).toBe(false);
    expect(fits?.baselineCall).toBeUndefined();
  });
});
