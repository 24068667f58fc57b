// The engine through the real SDKs against the simulator: retries, fallback, breakers, bulkheads, timeouts.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Registry } from "prom-client";
import { loadConfig } from "#libs/config/load.ts";
import type { GatewayError } from "#libs/errors/openai-error.ts";
import { startSimulator, type Simulator } from "#libs/simulator/server.ts";
import type { ChatChunk, ChatCompletion, ChatRequest } from "../providers/types.ts";
import { ExecutorEngine, type ExecutorEngineOptions } from "./engine.ts";
import type { AttemptRecord, ExecEvent, ExecSummary } from "./types.ts";

let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ latencyMs: 0 });
});
afterAll(async () => {
  await sim.close();
});
afterEach(() => sim.clearFaults());

type ExecutorPatch = Partial<Record<"attempt_timeout_ms" | "total_timeout_ms" | "max_retries" | "breaker_failures" | "breaker_half_open_after_ms", number>>;

function engine(executor: ExecutorPatch = {}, extra: Partial<ExecutorEngineOptions> = {}, modelPatch?: (models: Record<string, Record<string, unknown>>) => void): ExecutorEngine {
  const config = loadConfig({
    path: "deploy/config/llmgw.yaml",
    env: {},
    patch: (raw) => {
      const ex = raw["executor"] as Record<string, unknown>;
      Object.assign(ex, { attempt_timeout_ms: 5_000, total_timeout_ms: 10_000, max_retries: 2, breaker_failures: 5, breaker_half_open_after_ms: 10_000 }, executor);
      modelPatch?.(raw["models"] as Record<string, Record<string, unknown>>);
    },
  });
  return new ExecutorEngine({
    config,
    env: {},
    providerBaseUrlOverride: (id) => (id === "anthropic" ? sim.url : `${sim.url}/v1`),
    backoff: { baseDelayMs: 5, maxDelayMs: 20, maxRetryAfterMs: 1_000 },
    registry: new Registry(),
    ...extra,
  });
}

interface Run {
  chunks: ChatChunk[];
  completion?: ChatCompletion;
  summary?: ExecSummary;
  failure?: { error: GatewayError; attempts: AttemptRecord[] };
}

async function run(e: ExecutorEngine, models: string[], body: Omit<ChatRequest, "model">, stream = false, more: { totalTimeoutMs?: number; signal?: AbortSignal } = {}): Promise<Run> {
  const out: Run = { chunks: [] };
  const events: ExecEvent[] = [];
  for await (const ev of e.execute({ requestId: "r1", candidates: models.map((model) => ({ model })), body: { ...body, model: "auto" } as ChatRequest, stream, ...more })) events.push(ev);
  for (const ev of events) {
    if (ev.type === "chunk") out.chunks.push(ev.chunk);
    else if (ev.type === "completion") out.completion = ev.completion;
    else if (ev.type === "summary") out.summary = ev.summary;
    else out.failure = { error: ev.error, attempts: ev.attempts };
  }
  // Exactly one terminal event, always last.
  const last = events[events.length - 1];
  expect(last?.type === "summary" || last?.type === "failure").toBe(true);
  expect(events.filter((x) => x.type === "summary" || x.type === "failure")).toHaveLength(1);
  return out;
}

const user = (content: string): Omit<ChatRequest, "model"> => ({ messages: [{ role: "user", content }] });
const statuses = (a: AttemptRecord[] | undefined) => (a ?? []).map((x) => `${x.model}:${x.status}${x.httpStatus ? `:${x.httpStatus}` : ""}`);

describe("ExecutorEngine happy paths", () => {
  it("non-stream OpenAI: completion then summary with provider usage", async () => {
    const r = await run(engine(), ["gpt-4o-mini"], user("Hello [sim:len=8]"));
    expect(r.completion?.model).toBe("gpt-4o-mini");
    expect(r.summary).toMatchObject({ model: "gpt-4o-mini", provider: "openai", finishReason: "stop", usage: { outputTokens: 8, estimated: false } });
    expect(statuses(r.summary?.attempts)).toEqual(["gpt-4o-mini:ok:200"]);
    expect(r.summary?.attempts[0]?.usage).toEqual(r.summary?.usage);
  });

  it("stream Anthropic: chunks then summary; usage chunk only when the client asked", async () => {
    const e = engine();
    const a = await run(e, ["claude-3-5-haiku-latest"], user("Stream please [sim:len=6]"), true);
    expect(a.chunks.length).toBeGreaterThan(2);
    expect(a.chunks.every((c) => c.choices.length > 0)).toBe(true);
    expect(a.summary).toMatchObject({ model: "claude-3-5-haiku-latest", provider: "anthropic", finishReason: "stop", usage: { outputTokens: 6, estimated: false } });
    const b = await run(e, ["claude-3-5-haiku-latest"], { ...user("Stream please [sim:len=6]"), stream_options: { include_usage: true } }, true);
    expect(b.chunks[b.chunks.length - 1]?.usage?.completion_tokens).toBe(6);
  });
});

describe("ExecutorEngine retries and fallback", () => {
  it("retries a 429 after its Retry-After, then succeeds on the same model", async () => {
    sim.addFault({ model: "gpt-4o-mini", status: 429, count: 1, retryAfterSec: 0.2 });
    const r = await run(engine(), ["gpt-4o-mini", "gpt-4.1-nano"], user("hi [sim:len=3]"));
    expect(statuses(r.summary?.attempts)).toEqual(["gpt-4o-mini:error:429", "gpt-4o-mini:ok:200"]);
    expect(r.summary?.attempts[0]?.errorCode).toBe("rate_limit_exceeded");
    // the wait honoured Retry-After (a lower bound, so never flaky)
    expect(r.summary?.latencyMs).toBeGreaterThanOrEqual(190); // timers may round a millisecond early
  });

  it("falls back to the next candidate when 429 persists through the retries", async () => {
    // The simulator's default Retry-After is 1 s; a short one keeps the test quick.
    sim.addFault({ model: "gpt-4o-mini", status: 429, count: 10, retryAfterSec: 0.01 });
    const r = await run(engine({ max_retries: 2 }), ["gpt-4o-mini", "claude-3-5-haiku-latest"], user("hi [sim:len=3]"));
    expect(statuses(r.summary?.attempts)).toEqual(["gpt-4o-mini:error:429", "gpt-4o-mini:error:429", "gpt-4o-mini:error:429", "claude-3-5-haiku-latest:ok:200"]);
    expect(r.summary?.model).toBe("claude-3-5-haiku-latest");
  });

  it("does not wait for a Retry-After beyond the cap: falls back at once", async () => {
    sim.addFault({ model: "gpt-4o-mini", status: 429, count: 5, retryAfterSec: 30 });
    const r = await run(engine(), ["gpt-4o-mini", "gpt-4.1-nano"], user("hi"));
    expect(statuses(r.summary?.attempts)).toEqual(["gpt-4o-mini:error:429", "gpt-4.1-nano:ok:200"]);
  });

  it("a 429 on the only candidate ends as 429 with retry-after for the client", async () => {
    sim.addFault({ model: "gpt-4o-mini", status: 429, count: 5, retryAfterSec: 30 });
    const r = await run(engine(), ["gpt-4o-mini"], user("hi"));
    expect(r.failure?.error).toMatchObject({ status: 429, type: "rate_limit_error", retryAfterSec: 30 });
  });

  it("a client error (400) neither retries nor falls back", async () => {
    sim.addFault({ model: "gpt-4o-mini", status: 400, count: 1 });
    const r = await run(engine(), ["gpt-4o-mini", "gpt-4.1-nano"], user("hi"));
    expect(r.failure?.error.status).toBe(400);
    expect(statuses(r.failure?.attempts)).toEqual(["gpt-4o-mini:error:400"]);
  });

  // The router decides fit; a provider that still refuses the prompt has the last word and the next candidate answers.
  it("a provider's context_length_exceeded falls back to the next candidate without a retry", async () => {
    const long = "The quick brown fox jumps over the lazy dog. ".repeat(900); // ~9k tokens > 8192
    const r = await run(engine(), ["small-8k", "gpt-4o-mini"], user(long + "[sim:len=3]"));
    expect(statuses(r.summary?.attempts)).toEqual(["small-8k:error:400", "gpt-4o-mini:ok:200"]);
    expect(r.summary?.attempts[0]?.errorCode).toBe("context_length_exceeded");
  });

  it("a 500 on a stream before the first chunk falls back; chunks come only from the fallback", async () => {
    sim.addFault({ model: "gpt-4o-mini", status: 500, count: 1 });
    const r = await run(engine({ max_retries: 0 }), ["gpt-4o-mini", "claude-3-5-haiku-latest"], user("stream [sim:len=5]"), true);
    expect(statuses(r.summary?.attempts)).toEqual(["gpt-4o-mini:error:502", "claude-3-5-haiku-latest:ok:200"]);
    expect(r.chunks.every((c) => c.model === "claude-3-5-haiku-latest")).toBe(true);
    expect(r.chunks[0]?.choices[0]?.delta.role).toBe("assistant");
  });
});

describe("ExecutorEngine timeouts", () => {
  it("an attempt that never answers becomes 504 after the per-attempt timeout", async () => {
    const r = await run(engine({ attempt_timeout_ms: 150, max_retries: 0 }), ["gpt-4o-mini"], user("hang [sim:timeout]"));
    expect(r.failure?.error).toMatchObject({ status: 504, type: "timeout_error", code: "timeout" });
    expect(statuses(r.failure?.attempts)).toEqual(["gpt-4o-mini:error:504"]);
  });

  it("the total deadline bounds retries and fallbacks", async () => {
    const r = await run(engine({ attempt_timeout_ms: 5_000 }), ["gpt-4o-mini", "gpt-4.1-nano"], user("hang [sim:timeout]"), true, { totalTimeoutMs: 200 });
    expect(r.failure?.error.status).toBe(504);
    expect(r.failure?.attempts[0]).toMatchObject({ model: "gpt-4o-mini", status: "error", httpStatus: 504 });
    expect(r.failure?.attempts.some((a) => a.status === "ok")).toBe(false);
  });

  it("stops and reports when the client goes away", async () => {
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 50);
    const r = await run(engine(), ["gpt-4o-mini", "gpt-4.1-nano"], user("hang [sim:timeout]"), false, { signal: ctl.signal });
    expect(r.failure?.error.code).toBe("client_closed_request");
    expect(r.failure?.attempts).toHaveLength(1);
  });
});

describe("ExecutorEngine failures after output", () => {
  it("a stream cut after its first chunk ends with a failure event, no fallback, estimated usage recorded", async () => {
    // A paced simulator (50 tokens/s) so the deadline lands mid-stream.
    const slow = await startSimulator({ latencyMs: 0, tokensPerSecond: 50 });
    try {
      const e = new ExecutorEngine({
        config: loadConfig({ path: "deploy/config/llmgw.yaml", env: {} }),
        env: {},
        providerBaseUrlOverride: (id) => (id === "anthropic" ? slow.url : `${slow.url}/v1`),
        registry: new Registry(),
      });
      const r = await run(e, ["gpt-4o-mini", "gpt-4.1-nano"], user("long answer [sim:len=60]"), true, { totalTimeoutMs: 300 });
      expect(r.chunks.length).toBeGreaterThan(0);
      expect(r.failure?.error).toMatchObject({ status: 504, code: "timeout" });
      expect(statuses(r.failure?.attempts)).toEqual(["gpt-4o-mini:error:504"]);
      const usage = r.failure?.attempts[0]?.usage;
      expect(usage?.estimated).toBe(true);
      expect(usage?.inputTokens).toBeGreaterThan(0);
      expect(usage?.outputTokens).toBeGreaterThan(0);
      expect(usage?.outputTokens).toBeLessThan(60);
      expect(slow.stats().byModel["gpt-4.1-nano"] ?? 0).toBe(0);
    } finally {
      await slow.close();
    }
  });
});

describe("ExecutorEngine circuit breaker", () => {
  it("opens after N failures, skips the model, then a half-open probe closes it", async () => {
    const e = engine({ breaker_failures: 2, breaker_half_open_after_ms: 150, max_retries: 0 });
    const state = () => e.health().find((h) => h.model === "gpt-4o-mini")?.state;
    sim.addFault({ model: "gpt-4o-mini", status: 500, count: 2 });
    const models = ["gpt-4o-mini", "gpt-4.1-nano"];
    await run(e, models, user("one"));
    expect(state()).toBe("closed");
    const second = await run(e, models, user("two"));
    expect(statuses(second.summary?.attempts)).toEqual(["gpt-4o-mini:error:502", "gpt-4.1-nano:ok:200"]);
    expect(state()).toBe("open");

    const before = sim.stats().byModel["gpt-4o-mini"] ?? 0;
    const third = await run(e, models, user("three"));
    expect(statuses(third.summary?.attempts)).toEqual(["gpt-4o-mini:skipped_breaker_open", "gpt-4.1-nano:ok:200"]);
    expect(sim.stats().byModel["gpt-4o-mini"] ?? 0).toBe(before);

    await new Promise((r) => setTimeout(r, 200));
    expect(state()).toBe("half_open");
    const fourth = await run(e, models, user("four"));
    expect(statuses(fourth.summary?.attempts)).toEqual(["gpt-4o-mini:ok:200"]);
    expect(state()).toBe("closed");
  });

  it("all candidates open → 503 service_unavailable", async () => {
    const e = engine({ breaker_failures: 1, max_retries: 0 });
    sim.addFault({ model: "gpt-4o-mini", status: 503, count: 1 });
    await run(e, ["gpt-4o-mini"], user("x"));
    const r = await run(e, ["gpt-4o-mini"], user("x"));
    expect(r.failure?.error).toMatchObject({ status: 503, type: "service_unavailable" });
    expect(statuses(r.failure?.attempts)).toEqual(["gpt-4o-mini:skipped_breaker_open"]);
  });
});

describe("ExecutorEngine concurrency bound", () => {
  it("a full deployment is skipped (next candidate, or 503 when none)", async () => {
    const e = engine({}, { bulkheadQueueSize: 0 }, (models) => {
      (models["gpt-4o-mini"] as Record<string, unknown>)["max_concurrency"] = 1;
    });
    const inFlight = () => e.health().find((h) => h.model === "gpt-4o-mini")?.inFlight;
    const it1 = e.execute({ requestId: "a", candidates: [{ model: "gpt-4o-mini" }], body: { model: "auto", ...user("long stream [sim:len=30]") } as ChatRequest, stream: true })[Symbol.asyncIterator]();
    const first = await it1.next();
    expect(first.value).toMatchObject({ type: "chunk" });
    expect(inFlight()).toBe(1);

    const alone = await run(e, ["gpt-4o-mini"], user("hi"));
    expect(alone.failure?.error.status).toBe(503);
    expect(statuses(alone.failure?.attempts)).toEqual(["gpt-4o-mini:skipped_concurrency"]);
    const withFallback = await run(e, ["gpt-4o-mini", "gpt-4.1-nano"], user("hi"));
    expect(statuses(withFallback.summary?.attempts)).toEqual(["gpt-4o-mini:skipped_concurrency", "gpt-4.1-nano:ok:200"]);

    let n = await it1.next();
    while (!n.done) n = await it1.next();
    expect(inFlight()).toBe(0);
  });

  it("a consumer that stops reading a stream releases the slot", async () => {
    const e = engine({}, { bulkheadQueueSize: 0 });
    const it1 = e.execute({ requestId: "a", candidates: [{ model: "gpt-4o-mini" }], body: { model: "auto", ...user("stream [sim:len=30]") } as ChatRequest, stream: true })[Symbol.asyncIterator]();
    await it1.next();
    expect(e.health().find((h) => h.model === "gpt-4o-mini")?.inFlight).toBe(1);
    await it1.return?.(undefined);
    expect(e.health().find((h) => h.model === "gpt-4o-mini")?.inFlight).toBe(0);
  });
});

describe("ExecutorEngine metrics", () => {
  it("counts attempts, tokens and exposes breaker state", async () => {
    const registry = new Registry();
    const e = engine({}, { registry });
    await run(e, ["gpt-4o-mini"], user("hi [sim:len=4]"));
    const text = await registry.metrics();
    expect(text).toMatch(/llmgw_executor_attempts_total\{model="gpt-4o-mini",provider="openai",outcome="ok"\} 1/);
    expect(text).toMatch(/llmgw_executor_tokens_total\{model="gpt-4o-mini",kind="output"\} 4/);
    expect(text).toMatch(/llmgw_executor_breaker_state\{model="gpt-4o-mini"\} 0/);
    expect(text).toMatch(/llmgw_executor_attempt_duration_seconds_count\{model="gpt-4o-mini",provider="openai",outcome="ok"\} 1/);
  });
});
