// Money end to end: a scripted mix of requests through the mesh edge with the official openai SDK
// (plain, streamed with and without include_usage, OpenAI cached tokens, Anthropic cache writes and
// reads, reasoning tokens, a cascade, a shadow-tested request, an unpriced model). The cost the
// ledger records must equal, to the pico-dollar, the cost computed here from the usage the client
// saw and prices typed by hand. Calls the client cannot see (a cascade's first call, a stream
// without include_usage) are priced from the same request replayed on a separate "oracle"
// simulator: its answers and usage are deterministic, so it reports what the provider reported.
import { randomUUID } from "node:crypto";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "#libs/simulator/server.ts";
import { capturingLogger, startGateway, testConfig, type Gateway } from "./harness.ts";
import { waitForShadowEvaluated } from "./support-ledger/bus-events.ts";
import { LedgerDb, type CallRow, type RequestRow } from "./support-ledger/ledger-db.ts";
import { costPico, MICRO_IN_PICO, picoToUsd, tokensFromUsage, usdToPico, type Tokens } from "./support-ledger/money.ts";
import { complete, completeStream, type SeenAnswer } from "./support-ledger/sdk-calls.ts";

interface ExpectedCall {
  kind: string;
  model: string;
  tokens: Tokens;
  /** The model has no price: the ledger must say unknown (NULL + unpriced), never $0. */
  unpriced?: boolean;
}

interface Expected {
  label: string;
  requestId: string;
  /** The model the ledger records for the request (the one that answered). */
  model: string;
  calls: ExpectedCall[];
}

const UNPRICED_MODEL = "sim-unpriced";

let gw: Gateway;
let oracle: Simulator;
let client: OpenAI;
let oracleClient: OpenAI;
let db: LedgerDb;
let tenant: string;
const expected: Expected[] = [];
let shadowRequestId = "";
let highMessages: OpenAI.Chat.ChatCompletionMessageParam[] = [];
const logs = capturingLogger("warn");

/** A long, varied, deterministic text (well over OpenAI's 1024-token caching minimum). */
function longText(topic: string, sentences: number): string {
  const parts: string[] = [];
  for (let i = 1; i <= sentences; i++) parts.push(`Rule ${i} of the ${topic} handbook: item ${i * 7} goes to shelf ${(i * 13) % 97}, checked by team ${String.fromCharCode(65 + (i % 26))} every ${i % 9 + 1} days.`);
  return parts.join(" ");
}

function must<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`missing ${what}`);
  return v;
}

function seenTokens(a: SeenAnswer, writeTtl: "5m" | "1h" = "5m"): Tokens {
  return tokensFromUsage(must(a.usage, `usage of ${a.requestId}`), writeTtl);
}

/** The usage the provider reports for this exact request, asked of the oracle simulator. */
async function oracleTokens(params: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming): Promise<Tokens> {
  const r = await oracleClient.chat.completions.create(params);
  return tokensFromUsage(must(r.usage, "oracle usage"));
}

async function oracleStreamTokens(params: OpenAI.Chat.ChatCompletionCreateParamsStreaming): Promise<Tokens> {
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const c of await oracleClient.chat.completions.create({ ...params, stream_options: { include_usage: true } })) usage = c.usage ?? usage;
  return tokensFromUsage(must(usage, "oracle stream usage"));
}

const requestCost = (e: Expected): bigint => e.calls.reduce((s, c) => (c.unpriced ? s : s + costPico(c.model, c.tokens)), 0n);

beforeAll(async () => {
  const config = testConfig((c) => {
    // Every HIGH-tier answer is shadow-tested, so the mix has a shadow call in it.
    c.routing.shadow.sample_rate = 1;
    // A deployment the simulator serves but the price table does not know.
    c.models[UNPRICED_MODEL] = { provider: "openai", upstream: "gpt-4o-mini", context_window: 128_000, max_output_tokens: 4096, capabilities: ["streaming"], latency_ms: 400, quality: 0.5, max_concurrency: 64, kind: "chat" };
  });
  [gw, oracle] = await Promise.all([startGateway("mesh", { config, logger: logs.logger }), startSimulator({ port: 0 })]);
  const mesh = must(gw.mesh, "mesh");
  tenant = `money-${randomUUID().slice(0, 8)}`;
  const key = await gw.createKey(tenant);
  // Gateway caching off: every request must reach the provider and cost money.
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0, defaultHeaders: { "x-llmgw-cache": "off" } });
  oracleClient = new OpenAI({ baseURL: `${oracle.url}/v1`, apiKey: "sim", maxRetries: 0 });
  db = await LedgerDb.open(mesh.ledgerSchema);
}, 60_000);

afterAll(async () => {
  await db?.close();
  await oracle?.close();
  await gw?.stop();
});

describe("ledger money, end to end through the mesh", () => {
  it("drives the scripted mix through the edge", async () => {
    // 1. Plain, non-streamed.
    const plain = await complete(client, { model: "gpt-4o-mini", messages: [{ role: "user", content: "Name three primary colors." }] });
    expected.push({ label: "plain", requestId: plain.requestId, model: "gpt-4o-mini", calls: [{ kind: "primary", model: "gpt-4o-mini", tokens: seenTokens(plain) }] });

    // 2. Streamed with include_usage: the usage chunk is the client's count.
    const streamed = await completeStream(client, { model: "gpt-4o-mini", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "Describe a sunrise over the sea in two sentences." }] });
    expect(streamed.usageChunks).toBe(1);
    expected.push({ label: "stream+usage", requestId: streamed.requestId, model: "gpt-4o-mini", calls: [{ kind: "primary", model: "gpt-4o-mini", tokens: seenTokens(streamed) }] });

    // 3. Streamed WITHOUT include_usage: the client gets no usage, the ledger must still bill provider counts.
    const quietParams: OpenAI.Chat.ChatCompletionCreateParamsStreaming = { model: "gpt-4o", stream: true, messages: [{ role: "user", content: "List four uses of copper in buildings." }] };
    const quiet = await completeStream(client, quietParams);
    expect(quiet.usageChunks).toBe(0);
    expected.push({ label: "stream, no usage", requestId: quiet.requestId, model: "gpt-4o", calls: [{ kind: "primary", model: "gpt-4o", tokens: await oracleStreamTokens(quietParams) }] });

    // 4. OpenAI prompt caching: the same long system prompt twice; the second call reads it from cache.
    const sys = longText("warehouse", 90);
    const warm = await complete(client, { model: "gpt-4o-mini", messages: [{ role: "system", content: sys }, { role: "user", content: "Which shelf holds item 21?" }] });
    const hit = await complete(client, { model: "gpt-4o-mini", messages: [{ role: "system", content: sys }, { role: "user", content: "Which team checks rule 5?" }] });
    expect(seenTokens(warm).cached).toBe(0);
    expect(seenTokens(hit).cached).toBeGreaterThanOrEqual(1024);
    expected.push({ label: "openai cache miss", requestId: warm.requestId, model: "gpt-4o-mini", calls: [{ kind: "primary", model: "gpt-4o-mini", tokens: seenTokens(warm) }] });
    expected.push({ label: "openai cache read", requestId: hit.requestId, model: "gpt-4o-mini", calls: [{ kind: "primary", model: "gpt-4o-mini", tokens: seenTokens(hit) }] });

    // 5. Anthropic prompt caching, asked for with cache_control on an OpenAI content part (the
    // gateway passes it through): a 5-minute write, then a read (streamed), then a 1-hour write.
    const cachedSystem = (text: string, ttl?: "1h"): OpenAI.Chat.ChatCompletionSystemMessageParam => {
      const part: OpenAI.Chat.ChatCompletionContentPartText & { cache_control: { type: "ephemeral"; ttl?: "1h" } } = { type: "text", text, cache_control: ttl ? { type: "ephemeral", ttl } : { type: "ephemeral" } };
      return { role: "system", content: [part] };
    };
    const manual = longText("library", 80);
    const write = await complete(client, { model: "claude-3-5-haiku-latest", messages: [cachedSystem(manual), { role: "user", content: "Where does item 14 go?" }] });
    const read = await completeStream(client, { model: "claude-3-5-haiku-latest", stream: true, stream_options: { include_usage: true }, messages: [cachedSystem(manual), { role: "user", content: "Who checks rule 3?" }] });
    const write1h = await complete(client, { model: "claude-sonnet-4-5", messages: [cachedSystem(longText("garage", 60), "1h"), { role: "user", content: "How often is rule 2 checked?" }] });
    expect(seenTokens(write).write5m).toBeGreaterThan(0);
    expect(seenTokens(read).cached).toBeGreaterThan(0);
    expect(seenTokens(read).write5m).toBe(0);
    expect(seenTokens(write1h, "1h").write1h).toBeGreaterThan(0);
    expected.push({ label: "anthropic cache write 5m", requestId: write.requestId, model: "claude-3-5-haiku-latest", calls: [{ kind: "primary", model: "claude-3-5-haiku-latest", tokens: seenTokens(write) }] });
    expected.push({ label: "anthropic cache read (stream)", requestId: read.requestId, model: "claude-3-5-haiku-latest", calls: [{ kind: "primary", model: "claude-3-5-haiku-latest", tokens: seenTokens(read) }] });
    expected.push({ label: "anthropic cache write 1h", requestId: write1h.requestId, model: "claude-sonnet-4-5", calls: [{ kind: "primary", model: "claude-sonnet-4-5", tokens: seenTokens(write1h, "1h") }] });

    // 6. Reasoning tokens (a subset of completion_tokens, billed once).
    const reasoning = await complete(client, { model: "o3-mini", messages: [{ role: "user", content: "Is 221 a prime number?" }] });
    expect(seenTokens(reasoning).reasoning).toBeGreaterThan(0);
    expected.push({ label: "reasoning", requestId: reasoning.requestId, model: "o3-mini", calls: [{ kind: "primary", model: "o3-mini", tokens: seenTokens(reasoning) }] });

    // 7. A MEDIUM auto request the cheap model answers poorly ([sim:hard]): cascade_first on
    // gpt-4o-mini, verified, escalated to gpt-4o. The request pays both calls.
    const hardMessages: OpenAI.Chat.ChatCompletionMessageParam[] = [{ role: "user", content: "Explain how photosynthesis works in plants and why it matters for the climate. [sim:hard]" }];
    const cascade = await complete(client, { model: "auto", messages: hardMessages });
    const reasons = cascade.headers.get("x-llmgw-route-reasons") ?? "";
    expect({ tier: cascade.headers.get("x-llmgw-tier"), model: cascade.model, escalated: reasons.includes("escalated"), reasons }).toEqual({ tier: "MEDIUM", model: "gpt-4o", escalated: true, reasons });
    const firstTokens = await oracleTokens({ model: "gpt-4o-mini", messages: hardMessages });
    // The oracle reproduces what the provider reports: checked on the call the client did see.
    expect(await oracleTokens({ model: "gpt-4o", messages: hardMessages })).toEqual(seenTokens(cascade));
    expected.push({
      label: "cascade",
      requestId: cascade.requestId,
      model: "gpt-4o",
      calls: [
        { kind: "cascade_first", model: "gpt-4o-mini", tokens: firstTokens },
        { kind: "escalation", model: "gpt-4o", tokens: seenTokens(cascade) },
      ],
    });

    // 8. A HIGH auto request: answered by a HIGH model and (sample rate 1) shadow-tested on a MEDIUM one.
    highMessages = [{ role: "user", content: "Implement a thread-safe LRU cache in TypeScript with generics, explain the complexity step by step, and prove it is correct." }];
    const high = await complete(client, { model: "auto", messages: highMessages });
    expect({ tier: high.headers.get("x-llmgw-tier"), reasons: high.headers.get("x-llmgw-route-reasons") }).toMatchObject({ tier: "HIGH" });
    shadowRequestId = high.requestId;
    expected.push({ label: "high (shadowed)", requestId: high.requestId, model: high.model, calls: [{ kind: "primary", model: high.model, tokens: seenTokens(high) }] });

    // 9. A configured model with no price: recorded as unknown, never as $0.
    const unpriced = await complete(client, { model: UNPRICED_MODEL, messages: [{ role: "user", content: "Say hello in French." }] });
    expect(unpriced.headers.get("x-llmgw-cost-usd")).toBe("0+unpriced");
    expected.push({ label: "unpriced", requestId: unpriced.requestId, model: UNPRICED_MODEL, calls: [{ kind: "primary", model: UNPRICED_MODEL, tokens: seenTokens(unpriced), unpriced: true }] });
  });

  it("records each request's cost exactly (pico-dollar) from the provider's usage", async () => {
    expect(expected.length).toBe(12);
    const rows = await db.waitForRequests(expected.map((e) => e.requestId));
    const byId = new Map<string, RequestRow>(rows.map((r) => [r.request_id, r]));
    for (const e of expected) {
      const row = must(byId.get(e.requestId), `ledger row of ${e.label}`);
      const summary = { label: e.label, model: row.model, cost: row.cost_usd, unpriced: row.unpriced, estimated: row.usage_estimated };
      expect(summary).toEqual({ label: e.label, model: e.model, cost: picoToUsd(requestCost(e)), unpriced: e.calls.some((c) => c.unpriced === true), estimated: false });
      expect(usdToPico(row.cost_usd)).toBe(requestCost(e));
    }
    const cascade = must(byId.get(must(expected.find((e) => e.label === "cascade"), "cascade").requestId), "cascade row");
    expect({ cascaded: cascade.cascaded, escalated: cascade.escalated }).toEqual({ cascaded: true, escalated: true });
  });

  it("records every provider call with its kind, disjoint usage and exact cost (unpriced = NULL, not 0)", async () => {
    const calls = await db.calls(expected.map((e) => e.requestId));
    for (const e of expected) {
      const got = calls.filter((c: CallRow) => c.request_id === e.requestId && c.kind !== "shadow");
      const view = (c: CallRow) => ({
        kind: c.kind,
        model: c.model,
        billed: c.billed,
        tokens: { input: Number(c.input_tokens), cached: Number(c.cached_input_tokens), write5m: Number(c.cache_write_5m_tokens), write1h: Number(c.cache_write_1h_tokens), output: Number(c.output_tokens), reasoning: Number(c.reasoning_tokens) },
        cost: c.cost_usd === null ? null : usdToPico(c.cost_usd),
        unpriced: c.unpriced,
      });
      const want = e.calls.map((c) => ({ kind: c.kind, model: c.model, billed: true, tokens: c.tokens, cost: c.unpriced ? null : costPico(c.model, c.tokens), unpriced: c.unpriced === true }));
      expect({ label: e.label, calls: got.map(view) }).toEqual({ label: e.label, calls: want });
    }
  });

  it("totals: the ledger's sum equals the independent sum, and the spend API agrees to the micro-dollar", async () => {
    const ids = expected.map((e) => e.requestId);
    const want = expected.reduce((s, e) => s + requestCost(e), 0n);
    expect(usdToPico(await db.sumCost(ids))).toBe(want);

    const res = await fetch(`${gw.url}/v1/llmgw/spend?since=1h&group_by=model`, { headers: { authorization: `Bearer ${client.apiKey}` } });
    expect(res.status).toBe(200);
    const spend = (await res.json()) as { total: { requests: number; cost_usd: number }; rows: Array<{ model: string; requests: number; cost_usd: number }> };
    expect(spend.total.requests).toBe(expected.length);
    // The REST report carries JSON numbers (not exact decimals): compare to the micro-dollar.
    expect(Math.abs(spend.total.cost_usd * 1e12 - Number(want))).toBeLessThan(Number(MICRO_IN_PICO) / 2);
    const perModel = new Map<string, bigint>();
    for (const e of expected) perModel.set(e.model, (perModel.get(e.model) ?? 0n) + requestCost(e));
    const got = Object.fromEntries(spend.rows.map((r) => [r.model, r.cost_usd.toFixed(9)]));
    const wantRows = Object.fromEntries([...perModel].map(([m, p]) => [m, (Number(p) / 1e12).toFixed(9)]));
    expect(got).toEqual(wantRows);
  });

  it("an unpriced model raises the alarm (counter and warning), it is not costed at $0 silently", async () => {
    // The ledger counts it on its own registry, served on its admin port's /metrics.
    const metrics = await (await fetch(`${must(must(gw.mesh, "mesh").adminUrls.ledger, "ledger admin")}/metrics`)).text();
    const line = metrics.split("\n").find((l) => l.startsWith("llmgw_unpriced_calls_total{") && l.includes(`model="${UNPRICED_MODEL}"`));
    expect(Number(line?.split(" ").at(-1) ?? 0)).toBeGreaterThanOrEqual(1);
    const unpricedId = must(expected.find((e) => e.label === "unpriced"), "unpriced").requestId;
    const warned = logs.lines().filter((l) => l.model === UNPRICED_MODEL && l.request_id === unpricedId && String(l.msg).startsWith("unpriced model"));
    expect(warned.length).toBe(1);
  });

  it("the HIGH request was shadow-tested: the evaluator replayed it on the cheaper candidate", async () => {
    const ev = await waitForShadowEvaluated(must(gw.mesh, "mesh").busNames, shadowRequestId);
    expect(ev.candidateModel).toBe("gpt-4o-mini");
    expect(ev.servedModel).not.toBe("gpt-4o-mini");
  });

  // The evaluator publishes the replay's provider call with ShadowEvaluated; the ledger records it.
  it("the shadow call is in the ledger's calls: kind shadow, not billed, priced from the replay's own usage", async () => {
    const ev = await waitForShadowEvaluated(must(gw.mesh, "mesh").busNames, shadowRequestId);
    // The replay is the same request on the candidate model: the oracle reports its usage.
    const tokens = await oracleTokens({ model: "gpt-4o-mini", messages: highMessages });
    const want = costPico("gpt-4o-mini", tokens);
    expect(usdToPico(ev.candidateCostUsd)).toBe(want);
    // The ledger records it once the request's own row is in (a ShadowEvaluated that arrives first waits,
    // nak 1 s); a loaded CI run once needed more than the default 20 s, so the wait is 60 s.
    const [c] = await db.waitForCalls([shadowRequestId], (r) => r.kind === "shadow", 1, 60_000);
    const row = must(c, "shadow call row");
    expect({ model: row.model, billed: row.billed, unpriced: row.unpriced, input: Number(row.input_tokens), cached: Number(row.cached_input_tokens), output: Number(row.output_tokens), cost: row.cost_usd === null ? null : usdToPico(row.cost_usd) })
      .toEqual({ model: "gpt-4o-mini", billed: false, unpriced: false, input: tokens.input, cached: tokens.cached, output: tokens.output, cost: want });
    // Recorded, never billed: the request still costs exactly its primary call.
    const high = must(expected.find((e) => e.requestId === shadowRequestId), "high");
    const [req] = await db.requests([shadowRequestId]);
    expect(usdToPico(must(req, "high row").cost_usd)).toBe(requestCost(high));
  }, 90_000);
});
