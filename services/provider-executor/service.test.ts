// ExecutorService through Connect (in-process router transport): the real engine and the real
// openai / @anthropic-ai/sdk clients against the project's simulator (a real HTTP server); no mocks.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError, createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { Registry } from "prom-client";
import { loadConfig } from "#libs/config/load.ts";
import type { Config } from "#libs/config/schema.ts";
import { ExecutorService, type ExecuteResponse, type Failure, type Started, type Summary } from "#libs/gen/llmgw/executor/v1/executor_pb.ts";
import { startSimulator, type Simulator } from "#libs/simulator/server.ts";
import { createDirectClient } from "#libs/rpc/direct-client.ts";
import { jsonBytes } from "#libs/rpc/json-bytes.ts";
import { ExecutorEngine } from "./domain/engine.ts";
import { ExecutorServiceImpl } from "./service.ts";

let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ port: 0 });
});
afterAll(async () => {
  await sim?.close();
});
afterEach(() => sim.clearFaults());

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Every provider without a key is played by the simulator, as build.ts's simulatorOverride does. */
function executorClient(config: Config = loadConfig({ env: {} })): Client<typeof ExecutorService> {
  const engine = new ExecutorEngine({
    config,
    env: {},
    providerBaseUrlOverride: (id) => {
      const p = config.providers[id];
      if (!p || !p.simulate_without_key) return undefined;
      return p.type === "openai" ? `${sim.url}/v1` : sim.url;
    },
    backoff: { baseDelayMs: 5, maxDelayMs: 20, maxRetryAfterMs: 1_000 },
    registry: new Registry(),
  });
  return createClient(ExecutorService, createRouterTransport((router) => router.service(ExecutorService, new ExecutorServiceImpl(engine))));
}

type Event = ExecuteResponse["event"];

async function execute(client: Client<typeof ExecutorService>, models: string[], body: Record<string, unknown>, stream = false): Promise<Event[]> {
  const events: Event[] = [];
  for await (const r of client.execute({ context: { requestId: "req-1", tenantId: "acme" }, candidates: models.map((model) => ({ model })), requestJson: encoder.encode(JSON.stringify({ model: "auto", ...body })), stream, purpose: "primary" })) {
    events.push(r.event);
  }
  return events;
}

const user = (content: string) => ({ messages: [{ role: "user", content }] });
const json = <T>(b: Uint8Array): T => JSON.parse(decoder.decode(b)) as T;

interface Completion {
  model: string;
  object: string;
  choices: { message: { role: string; content: string | null }; finish_reason: string }[];
}
interface Chunk {
  model: string;
  choices: { delta: { content?: string } }[];
  usage?: { completion_tokens: number } | null;
}

interface EventValues {
  chunkJson: Uint8Array;
  completionJson: Uint8Array;
  summary: Summary;
  failure: Failure;
  started: Started;
}

/** The values of one kind of event, in order. */
function only<C extends keyof EventValues>(events: Event[], c: C): EventValues[C][] {
  const out: EventValues[C][] = [];
  for (const e of events) if (e.case === c) out.push(e.value as EventValues[C]);
  return out;
}

async function rpcCode(p: Promise<unknown>): Promise<Code | "resolved"> {
  try {
    await p;
    return "resolved";
  } catch (e) {
    return ConnectError.from(e).code;
  }
}

describe("ExecutorService.Execute", () => {
  it("non-streaming: one completion, then one summary with the provider's usage", async () => {
    const events = await execute(executorClient(), ["gpt-4o-mini"], user("Hello [sim:len=8]"));
    expect(events.map((e) => e.case)).toEqual(["completionJson", "summary"]);
    const completion = json<Completion>(only(events, "completionJson")[0]!);
    expect(completion.object).toBe("chat.completion");
    expect(completion.model).toBe("gpt-4o-mini");
    expect(completion.choices[0]?.message.content?.length).toBeGreaterThan(0);
    const summary = only(events, "summary")[0]!;
    expect(summary).toMatchObject({ model: "gpt-4o-mini", provider: "openai", finishReason: "stop" });
    expect(summary.usage).toMatchObject({ outputTokens: 8n, estimated: false });
    expect(summary.usage?.inputTokens).toBeGreaterThan(0n);
    expect(summary.attempts.map((a) => [a.model, a.status, a.httpStatus])).toEqual([["gpt-4o-mini", "ok", 200]]);
  });

  it("streaming (Anthropic): started, chunks, the assembled completion, then the summary", async () => {
    const events = await execute(executorClient(), ["claude-3-5-haiku-latest"], user("Tell me a story [sim:len=12]"), true);
    expect(events[0]).toEqual({ case: "started", value: expect.objectContaining({ model: "claude-3-5-haiku-latest", provider: "anthropic" }) });
    expect(events.slice(-2).map((e) => e.case)).toEqual(["completionJson", "summary"]);
    const chunks = only(events, "chunkJson").map((c) => json<Chunk>(c));
    expect(chunks.length).toBeGreaterThan(1);
    // The client did not ask for usage: no usage-only chunk reaches it.
    expect(chunks.every((c) => c.choices.length > 0)).toBe(true);
    const streamed = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
    const completion = json<Completion>(only(events, "completionJson")[0]!);
    expect(completion.choices[0]?.message.content).toBe(streamed);
    expect(only(events, "summary")[0]).toMatchObject({ model: "claude-3-5-haiku-latest", provider: "anthropic", usage: { outputTokens: 12n } });
  });

  it("streaming with include_usage passes the usage chunk through", async () => {
    const events = await execute(executorClient(), ["gpt-4o-mini"], { ...user("Hi [sim:len=5]"), stream: true, stream_options: { include_usage: true } }, true);
    const chunks = only(events, "chunkJson").map((c) => json<Chunk>(c));
    const usage = chunks.filter((c) => c.choices.length === 0 && c.usage);
    expect(usage).toHaveLength(1);
    expect(usage[0]?.usage?.completion_tokens).toBe(5);
  });

  it("retries a failing deployment, then falls back to the next candidate", async () => {
    sim.addFault({ model: "gpt-4o-mini", status: 503, count: 100 });
    const events = await execute(executorClient(), ["gpt-4o-mini", "gpt-4o"], user("Hello"));
    const summary = only(events, "summary")[0]!;
    expect(summary.model).toBe("gpt-4o");
    // 1 try + max_retries (2) on the failing model, then the fallback answers.
    expect(summary.attempts.map((a) => `${a.model}:${a.status}`)).toEqual(["gpt-4o-mini:error", "gpt-4o-mini:error", "gpt-4o-mini:error", "gpt-4o:ok"]);
    expect(summary.attempts[0]?.httpStatus).toBe(503);
    expect(json<Completion>(only(events, "completionJson")[0]!).model).toBe("gpt-4o");
  });

  it("skips candidates that cannot take the request and answers with the first that can", async () => {
    const events = await execute(executorClient(), ["no-such-model", "gpt-4.1-nano"], { ...user("What's the weather?"), tools: [{ type: "function", function: { name: "weather", parameters: { type: "object", properties: {} } } }] });
    const summary = only(events, "summary")[0]!;
    expect(summary.model).toBe("gpt-4.1-nano");
    expect(summary.attempts.map((a) => `${a.model}:${a.status}`)).toEqual(["no-such-model:skipped_unknown_model", "gpt-4.1-nano:ok"]);
  });

  it("a provider error that no fallback can fix ends with one Failure in the OpenAI shape", async () => {
    sim.addFault({ status: 400, count: 1 });
    const events = await execute(executorClient(), ["gpt-4o-mini", "gpt-4o"], user("Hello"));
    expect(events.map((e) => e.case)).toEqual(["failure"]);
    const f = only(events, "failure")[0]!;
    expect(f.httpStatus).toBe(400);
    expect(f.type).toBe("invalid_request_error");
    expect(f.attempts.map((a) => `${a.model}:${a.status}`)).toEqual(["gpt-4o-mini:error"]);
  });

  it("in one process it reads the caller's body itself (jsonBytes) and never changes it", async () => {
    const engine = new ExecutorEngine({
      config: loadConfig({ env: {} }),
      env: {},
      providerBaseUrlOverride: (id) => (id === "openai" ? `${sim.url}/v1` : sim.url),
      registry: new Registry(),
    });
    const client = createDirectClient(ExecutorService, new ExecutorServiceImpl(engine));
    const freeze = <T>(v: T): T => {
      if (v && typeof v === "object") for (const x of Object.values(v)) freeze(x);
      return Object.freeze(v);
    };
    for (const [model, stream] of [["gpt-4o-mini", false], ["gpt-4o-mini", true], ["claude-3-5-haiku-latest", false], ["claude-3-5-haiku-latest", true]] as const) {
      const body = freeze({
        model,
        stream,
        max_tokens: 16,
        stop: ["\n\n"],
        messages: [
          { role: "system", content: [{ type: "text", text: "Be brief.", cache_control: { type: "ephemeral" } }] },
          { role: "user", content: [{ type: "text", text: "Hi [sim:len=4]" }], cache_control: { type: "ephemeral" } },
        ],
        ...(stream ? { stream_options: { include_usage: true } } : {}),
      });
      const before = JSON.stringify(body);
      const cases: string[] = [];
      // A frozen body: a write by the engine or an adapter throws (modules are strict) and fails the call.
      for await (const r of client.execute({ context: { requestId: "req-frozen", tenantId: "acme" }, candidates: [{ model }], requestJson: jsonBytes(body), stream, purpose: "primary" })) cases.push(r.event.case ?? "");
      expect(cases.at(-1), `${model} stream=${stream}`).toBe("summary");
      expect(JSON.stringify(body)).toBe(before);
    }
  });

  it("bad request_json is a 400 Failure event (the stream's error channel), not a broken RPC", async () => {
    const client = executorClient();
    const before = sim.stats().requests;
    const events: Event[] = [];
    for await (const r of client.execute({ candidates: [{ model: "gpt-4o-mini" }], requestJson: encoder.encode("{not json") })) events.push(r.event);
    expect(events).toHaveLength(1);
    expect(only(events, "failure")[0]).toMatchObject({ httpStatus: 400, type: "invalid_request_error", code: "invalid_json" });
    // It never reached a provider.
    expect(sim.stats().requests).toBe(before);
  });

  it("unknown models only, or no candidates at all, fail with 404 / 400", async () => {
    const client = executorClient();
    const unknown = only(await execute(client, ["no-such-model"], user("Hi")), "failure")[0]!;
    expect(unknown).toMatchObject({ httpStatus: 404, code: "model_not_found" });
    const none = only(await execute(client, [], user("Hi")), "failure")[0]!;
    expect(none).toMatchObject({ httpStatus: 400, type: "invalid_request_error", param: "model" });
  });
});

describe("ExecutorService.GetHealth", () => {
  it("lists every configured deployment closed and idle, and reports an open breaker", async () => {
    const config = loadConfig({
      env: {},
      patch: (raw) => Object.assign(raw["executor"] as Record<string, unknown>, { breaker_failures: 2, max_retries: 0, breaker_half_open_after_ms: 60_000 }),
    });
    const client = executorClient(config);
    const before = await client.getHealth({});
    expect(before.deployments.map((d) => d.model).sort()).toEqual(Object.keys(config.models).sort());
    expect(before.deployments.every((d) => d.state === "closed" && d.inFlight === 0)).toBe(true);

    sim.addFault({ model: "gpt-4o", status: 503, count: 2 });
    await execute(client, ["gpt-4o"], user("Hi"));
    await execute(client, ["gpt-4o"], user("Hi"));
    const after = await client.getHealth({});
    expect(after.deployments.find((d) => d.model === "gpt-4o")?.state).toBe("open");
    expect(after.deployments.filter((d) => d.state === "open").map((d) => d.model)).toEqual(["gpt-4o"]);

    // The open breaker is skipped without calling the provider.
    const skipped = only(await execute(client, ["gpt-4o"], user("Hi")), "failure")[0]!;
    expect(skipped.httpStatus).toBe(503);
    expect(skipped.attempts.map((a) => a.status)).toEqual(["skipped_breaker_open"]);
  });
});

describe("ExecutorService batches", () => {
  const line = (id: string, content: string) => JSON.stringify({ custom_id: id, method: "POST", url: "/v1/chat/completions", body: { model: "gateway-name", messages: [{ role: "user", content }] } });

  interface Batch {
    id: string;
    status: string;
    output_file_id: string | null;
    request_counts: { total: number; completed: number; failed: number };
  }
  interface OutputLine {
    custom_id: string;
    response: { status_code: number; body: { model: string; choices: { message: { content: string } }[] } };
  }

  it("creates a provider batch, reads it back and downloads its output", async () => {
    const client = executorClient();
    const created = await client.createBatch({ model: "gpt-4o-mini", inputJsonl: encoder.encode(`${line("a", "first")}\n\n${line("b", "second")}\n`), endpoint: "/v1/chat/completions", completionWindow: "24h" });
    expect(created.provider).toBe("openai");
    const batch = json<Batch>(created.batchJson);
    expect(batch.id).toMatch(/^batch_/);

    const got = json<Batch>((await client.getBatch({ model: "gpt-4o-mini", providerBatchId: batch.id })).batchJson);
    expect(got).toMatchObject({ id: batch.id, status: "completed", request_counts: { total: 2, completed: 2, failed: 0 } });
    expect(got.output_file_id).toBeTruthy();

    const out = await client.getBatchOutput({ model: "gpt-4o-mini", providerFileId: got.output_file_id ?? "" });
    const lines = decoder.decode(out.content).trim().split("\n").map((l) => JSON.parse(l) as OutputLine);
    expect(lines.map((l) => l.custom_id)).toEqual(["a", "b"]);
    // Each line went upstream under the deployment's model name, not the gateway's.
    expect(lines.every((l) => l.response.status_code === 200 && l.response.body.model === "gpt-4o-mini")).toBe(true);
  });

  it("maps bad input to InvalidArgument / NotFound", async () => {
    const client = executorClient();
    const input = encoder.encode(line("a", "hi"));
    const create = (over: { model?: string; inputJsonl?: Uint8Array; endpoint?: string }) =>
      client.createBatch({ model: "gpt-4o-mini", inputJsonl: input, endpoint: "/v1/chat/completions", completionWindow: "24h", ...over });

    expect(await rpcCode(create({ model: "no-such-model" }))).toBe(Code.NotFound);
    // Anthropic models batch through Message Batches (providers/anthropic-batches.ts), chat lines only.
    expect(await rpcCode(create({ model: "claude-sonnet-4-5", endpoint: "/v1/embeddings" }))).toBe(Code.InvalidArgument);
    expect(await rpcCode(create({ inputJsonl: encoder.encode("{not json\n") }))).toBe(Code.InvalidArgument);
    expect(await rpcCode(create({ inputJsonl: encoder.encode("[1]\n42\n") }))).toBe(Code.InvalidArgument);
    expect(await rpcCode(create({ endpoint: "/v1/images" }))).toBe(Code.InvalidArgument);
    const before = sim.stats().requests;
    expect(await rpcCode(create({ inputJsonl: new Uint8Array() }))).toBe(Code.InvalidArgument);
    expect(await rpcCode(create({ inputJsonl: encoder.encode("\n  \n") }))).toBe(Code.InvalidArgument);
    // Rejected before anything was uploaded.
    expect(sim.stats().requests).toBe(before);

    expect(await rpcCode(client.getBatch({ model: "gpt-4o-mini", providerBatchId: "batch_nope" }))).toBe(Code.NotFound);
    expect(await rpcCode(client.getBatch({ model: "no-such-model", providerBatchId: "batch_nope" }))).toBe(Code.NotFound);
    expect(await rpcCode(client.getBatchOutput({ model: "gpt-4o-mini", providerFileId: "file-nope" }))).toBe(Code.NotFound);
    // An Anthropic batch's files are "<msgbatch id>:output|errors"; anything else names no file.
    expect(await rpcCode(client.getBatchOutput({ model: "claude-sonnet-4-5", providerFileId: "file-nope" }))).toBe(Code.NotFound);
  });
});
