// One chat request's trace, in both run modes, as a real OTLP/HTTP receiver sees it: a span for
// every hop (edge, classifier, cache, router, budget, executor and its provider call, the ledger's
// event consumer), one trace id (the caller's traceparent honoured), every parent present,
// durations present, the GenAI attributes on the edge's span, and the trace id in the response header.
import { randomBytes, randomUUID } from "node:crypto";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { flushTracing } from "#libs/tracing/tracing.ts";
import { MODES, startGateway, testConfig, type Gateway } from "./harness.ts";
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "./support/otlp-receiver.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every hop of a routed ("auto") request that misses the cache. */
const HOPS = [
  "POST /v1/chat/completions",
  "llmgw.classifier.v1.ClassifierService/Classify",
  "llmgw.cache.v1.CacheService/Lookup",
  "llmgw.router.v1.RouterService/Route",
  "llmgw.ledger.v1.LedgerService/ReserveBudget",
  "llmgw.executor.v1.ExecutorService/Execute",
  "ledger record RequestCompleted",
];

describe.each(MODES)("traces of one request (%s)", (mode) => {
  let receiver: OtlpReceiver;
  let gw: Gateway;
  let client: OpenAI;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    gw = await startGateway(mode, {
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url },
      // Every HIGH request shadow-tested: the trace goes on through the evaluator's replay.
      config: testConfig((c) => {
        c.routing.shadow = { ...c.routing.shadow, sample_rate: 1, tiers: ["HIGH"], candidates: 1, daily_cap_usd: 10 };
      }),
    });
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: await gw.createKey("trace-co"), maxRetries: 0, timeout: 20_000 });
    // Generous: a whole gateway (a mesh: six servers) starts on a shared, busy machine.
  }, 180_000);

  afterAll(async () => {
    await gw?.stop();
    await receiver?.close();
  });

  it("has a span for every hop, with correct parents and durations, in the caller's trace", async () => {
    const traceId = randomBytes(16).toString("hex");
    const callerSpan = randomBytes(8).toString("hex");
    const { response } = await client.chat.completions
      .create({ model: "auto", messages: [{ role: "user", content: `Explain what a hash map is. (${randomUUID()})` }] }, { headers: { traceparent: `00-${traceId}-${callerSpan}-01` } })
      .withResponse();
    expect(response.headers.get("x-llmgw-trace-id")).toBe(traceId);

    // The ledger commits after the answer: wait (bounded) until its span has been exported.
    let spans: ReceivedSpan[] = [];
    for (let i = 0; i < 100 && !spans.some((s) => s.name === "ledger record RequestCompleted"); i++) {
      await flushTracing();
      spans = receiver.spans.filter((s) => s.traceId === traceId);
      if (!spans.some((s) => s.name === "ledger record RequestCompleted")) await sleep(100);
    }
    await sleep(200);
    await flushTracing();
    spans = receiver.spans.filter((s) => s.traceId === traceId);
    const names = spans.map((s) => s.name);
    for (const hop of HOPS) expect(names, hop).toContain(hop);
    expect(receiver.rejected).toEqual([]);

    // One root (the edge, child of the caller's span); every other span's parent is in the trace.
    const ids = new Set(spans.map((s) => s.spanId));
    const edge = spans.find((s) => s.name === "POST /v1/chat/completions");
    expect(edge?.parentSpanId).toBe(callerSpan);
    for (const s of spans) if (s !== edge) expect(ids.has(s.parentSpanId), `${s.name}: parent ${s.parentSpanId} in the trace`).toBe(true);
    // The RPC hops hang off the edge's span (the edge calls every service itself).
    for (const hop of HOPS.slice(1, 6)) expect(spans.find((s) => s.name === hop)?.parentSpanId, hop).toBe(edge?.spanId);
    // The ledger's consumer span continues the trace through the event (the edge published it inside its span).
    expect(spans.find((s) => s.name === "ledger record RequestCompleted")?.parentSpanId).toBe(edge?.spanId);

    // The provider call itself: a GenAI client span under the executor's.
    const execute = spans.find((s) => s.name === "llmgw.executor.v1.ExecutorService/Execute");
    const call = spans.find((s) => s.name.startsWith("chat ") && s.parentSpanId === execute?.spanId);
    expect(call?.attributes["gen_ai.provider.name"]).toBeTruthy();
    expect(Number(call?.attributes["gen_ai.usage.output_tokens"])).toBeGreaterThan(0);

    for (const s of spans) {
      expect(s.startNs, s.name).toBeGreaterThan(0n);
      expect(s.endNs, s.name).toBeGreaterThanOrEqual(s.startNs);
    }
    expect(edge!.endNs - edge!.startNs).toBeGreaterThan(0n);

    // GenAI semantic-convention attributes on the edge's span.
    const a = edge?.attributes ?? {};
    expect(a["gen_ai.operation.name"]).toBe("chat");
    expect(a["gen_ai.request.model"]).toBe("auto");
    expect(typeof a["gen_ai.response.model"]).toBe("string");
    expect(a["gen_ai.response.model"]).not.toBe("");
    expect(a["gen_ai.provider.name"]).not.toBe("");
    expect(Number(a["gen_ai.usage.input_tokens"])).toBeGreaterThan(0);
    expect(Number(a["gen_ai.usage.output_tokens"])).toBeGreaterThan(0);
    expect(Number(a["llmgw.cost_usd"])).toBeGreaterThan(0);
    expect(a["http.response.status_code"]).toBe(200);
  }, 60_000);

  it("a shadow test continues the trace: evaluator (from the event), its replay, the ledger's record of it", async () => {
    const traceId = randomBytes(16).toString("hex");
    const { response } = await client.chat.completions
      .create(
        { model: "auto", max_tokens: 50, messages: [{ role: "user", content: `Implement a thread-safe LRU cache in TypeScript with generics, explain the complexity step by step, and prove it is correct. (${randomUUID()})` }] },
        { headers: { traceparent: `00-${traceId}-${randomBytes(8).toString("hex")}-01`, "x-llmgw-cache": "off" } },
      )
      .withResponse();
    expect(response.headers.get("x-llmgw-tier")).toBe("HIGH");
    const find = (name: string) => receiver.spans.find((s) => s.traceId === traceId && s.name === name);
    for (let i = 0; i < 150 && !find("ledger record ShadowEvaluated"); i++) {
      await flushTracing();
      if (!find("ledger record ShadowEvaluated")) await sleep(100);
    }
    const edge = find("POST /v1/chat/completions");
    const evaluator = find("evaluator ShadowTestRequested");
    expect(evaluator?.parentSpanId).toBe(edge?.spanId);
    const replay = receiver.spans.filter((s) => s.traceId === traceId && s.name === "llmgw.executor.v1.ExecutorService/Execute" && s.parentSpanId === evaluator?.spanId);
    expect(replay).toHaveLength(1);
    expect(find("ledger record ShadowEvaluated")?.parentSpanId).toBe(evaluator?.spanId);
  }, 60_000);
});
