// The Anthropic Messages API on the edge, driven by the official @anthropic-ai/sdk as any Anthropic
// client (Claude Code first) would drive it: create (auto, a named Claude model, a dated snapshot),
// stream, a tool round trip, countTokens, errors raised as the SDK's own classes, a Claude-Code-like
// session (x-api-key, anthropic-beta, system blocks with cache_control, streamed, prompt cache written
// then read), and the ledger billing every call at the cost computed here from the usage the client
// saw and prices typed by hand (test/e2e/support-ledger/money.ts).
import { randomUUID } from "node:crypto";
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { MODES, startGateway, testConfig, type Gateway } from "./harness.ts";
import { costPico, picoToUsd, RATES, usdToPico, type Tokens } from "./support-ledger/money.ts";

/** The usage fields of a Message, a BetaMessage or a message_delta event. */
interface Usage {
  input_tokens?: number | null;
  output_tokens: number;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
}

/** Disjoint token kinds from an Anthropic usage object (its input_tokens already excludes cache reads and writes). */
function tokensOf(u: Usage): Tokens {
  return { input: u.input_tokens ?? 0, cached: u.cache_read_input_tokens ?? 0, write5m: u.cache_creation_input_tokens ?? 0, write1h: 0, output: u.output_tokens, reasoning: 0 };
}

/** A long, deterministic text (over Anthropic's 1,024-token prompt-caching minimum). */
function longText(topic: string, sentences: number): string {
  const parts: string[] = [];
  for (let i = 1; i <= sentences; i++) parts.push(`Rule ${i} of the ${topic} guide: file ${i * 7} lives in folder ${(i * 13) % 97}, reviewed by team ${String.fromCharCode(65 + (i % 26))} every ${(i % 9) + 1} days.`);
  return parts.join(" ");
}

const WEATHER_TOOL: Anthropic.Messages.Tool = {
  name: "get_weather",
  description: "Get the current weather forecast for a city",
  input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
};

interface Billed {
  requestId: string;
  model: string;
  /** What the call must cost in the ledger, in pico-USD. */
  pico: bigint;
}

/**
 * The cost of a call from the usage the client saw and hand-typed prices; a model routed to that has
 * no hand-typed price (auto may pick a simulator-only model) falls back to the gateway's cost header.
 */
function billedAs(requestId: string, model: string, usage: Usage, costHeader: string | null): Billed {
  if (RATES[model]) return { requestId, model, pico: costPico(model, tokensOf(usage)) };
  if (costHeader === null) throw new Error(`no price for ${model} and no cost header`);
  return { requestId, model, pico: usdToPico(costHeader) };
}

describe.each(MODES)("Anthropic Messages API (%s)", (mode) => {
  let gw: Gateway;
  let key: string;
  let client: Anthropic;
  const tenant = `anthropic-${mode}-${randomUUID().slice(0, 8)}`;
  const billed: Billed[] = [];
  // Letters only: eight random hex digits can be all digits, which the cache's privacy detectors may
  // take for a phone number or an id (the request then bypasses the cache and the test reads 'bypass').
  const fresh = (s: string) => `${s} (run ${randomUUID().replace(/[^a-f]/g, "").padEnd(8, "x").slice(0, 8)})`;

  /** messages.create with the gateway's headers, remembered for the ledger check. */
  async function create(params: Anthropic.Messages.MessageCreateParamsNonStreaming, c: Anthropic = client): Promise<{ msg: Anthropic.Messages.Message; headers: Headers }> {
    const { data, response } = await c.messages.create(params).withResponse();
    const requestId = response.headers.get("x-llmgw-request-id") ?? "";
    expect(requestId).not.toBe("");
    const hit = response.headers.get("x-llmgw-cache")?.startsWith("hit") === true;
    // An answer from the gateway's cache costs nothing (its usage is the cached answer's).
    billed.push(hit ? { requestId, model: data.model, pico: 0n } : billedAs(requestId, data.model, data.usage, response.headers.get("x-llmgw-cost-usd")));
    return { msg: data, headers: response.headers };
  }

  beforeAll(async () => {
    gw = await startGateway(mode);
    key = await gw.createKey(tenant);
    client = new Anthropic({ baseURL: gw.url, apiKey: key, maxRetries: 0, timeout: 30_000 });
  }, 60_000);

  afterAll(async () => {
    await gw?.stop();
  });

  it("messages.create with model auto: routed, answered in Anthropic's shape, with the gateway's headers", async () => {
    const { msg, headers } = await create({ model: "auto", max_tokens: 200, messages: [{ role: "user", content: fresh("Say hello to the team.") }] });
    expect(msg.type).toBe("message");
    expect(msg.role).toBe("assistant");
    expect(msg.id).toMatch(/^msg_/);
    expect(msg.stop_reason).toBe("end_turn");
    const text = msg.content.find((b) => b.type === "text");
    expect(text?.type === "text" ? text.text.length : 0).toBeGreaterThan(0);
    expect(msg.usage.input_tokens).toBeGreaterThan(0);
    expect(msg.usage.output_tokens).toBeGreaterThan(0);
    expect(headers.get("x-llmgw-model")).toBe(msg.model);
    expect(headers.get("x-llmgw-tier")).toMatch(/^(LOW|MEDIUM|HIGH|AGENTIC)$/);
    expect(headers.get("x-llmgw-cache")).toBe("miss");
    expect(Number(headers.get("x-llmgw-cost-usd"))).toBeGreaterThan(0);
  });

  it("the same question again is answered from the gateway's cache, at no cost", async () => {
    const params = { model: "auto", max_tokens: 200, messages: [{ role: "user" as const, content: fresh("What is the capital of France?") }] };
    const first = await create(params);
    expect(first.headers.get("x-llmgw-cache")).toBe("miss");
    // The answer is stored after it is sent: ask until the store has landed.
    const again = await vi.waitFor(
      async () => {
        const r = await create(params);
        if (r.headers.get("x-llmgw-cache") !== "hit-exact") throw new Error(`cache ${r.headers.get("x-llmgw-cache")}`);
        return r;
      },
      { timeout: 10_000, interval: 100 },
    );
    expect(again.headers.get("x-llmgw-cost-usd")).toBe("0");
    expect(again.msg.content).toEqual(first.msg.content);
  });

  it("messages.create with a named Claude model, and with its dated snapshot, is served by that model", async () => {
    // Sampling fields are missing from this SDK version's types; the API (and the gateway) take them.
    const sampled = { model: "claude-sonnet-4-5", max_tokens: 100, system: "You are terse.", messages: [{ role: "user", content: fresh("Name a color.") }], temperature: 0.2, top_p: 0.9, top_k: 5, stop_sequences: ["###"], metadata: { user_id: "u-1" } };
    const named = await create(sampled as Anthropic.Messages.MessageCreateParamsNonStreaming);
    expect(named.msg.model).toBe("claude-sonnet-4-5");
    expect(named.headers.get("x-llmgw-model")).toBe("claude-sonnet-4-5");
    const dated = await create({ model: "claude-sonnet-4-5-20250929", max_tokens: 100, messages: [{ role: "user", content: fresh("Name a fruit.") }] });
    expect(dated.msg.model).toBe("claude-sonnet-4-5");
  });

  it("auto with Claude Code's max_tokens of 32,000 goes straight to a model that can write that much", async () => {
    const { headers } = await create({ model: "auto", max_tokens: 32_000, messages: [{ role: "user", content: fresh("Say hi.") }] });
    const served = headers.get("x-llmgw-model") ?? "";
    expect(testConfig().models[served]?.max_output_tokens ?? 0).toBeGreaterThanOrEqual(32_000);
    // No attempt on a model that refuses it first.
    expect(headers.get("x-llmgw-route-reasons")).not.toContain("fallback");
  });

  it("a matched stop sequence is reported as Anthropic reports it, in JSON and in the stream", async () => {
    // The simulator's answers are sentences: "." ends the first one.
    const { msg } = await create({ model: "claude-sonnet-4-5", max_tokens: 200, stop_sequences: ["."], messages: [{ role: "user", content: fresh("Describe the sea in three sentences.") }] });
    expect(msg.stop_reason).toBe("stop_sequence");
    expect(msg.stop_sequence).toBe(".");
    const stream = client.messages.stream({ model: "claude-sonnet-4-5", max_tokens: 200, stop_sequences: ["."], messages: [{ role: "user", content: fresh("Describe the hills in three sentences.") }] });
    const final = await stream.finalMessage();
    const { response } = await stream.withResponse();
    billed.push(billedAs(response.headers.get("x-llmgw-request-id") ?? "", final.model, final.usage, null));
    expect(final.stop_reason).toBe("stop_sequence");
    expect(final.stop_sequence).toBe(".");
  });

  it("an image (base64) reaches a vision model", async () => {
    // A 1x1 PNG.
    const png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
    const { msg } = await create({
      model: "claude-3-5-haiku-latest",
      max_tokens: 100,
      messages: [{ role: "user", content: [{ type: "image", source: { type: "base64", media_type: "image/png", data: png } }, { type: "text", text: fresh("What is in this picture?") }] }],
    });
    expect(msg.model).toBe("claude-3-5-haiku-latest");
    expect(msg.content.length).toBeGreaterThan(0);
  });

  it("messages.stream: text events, the final message, and the event sequence on the wire", async () => {
    const stream = client.messages.stream({ model: "claude-3-5-haiku-latest", max_tokens: 300, messages: [{ role: "user", content: fresh("Describe a sunrise over the sea in two sentences.") }] });
    let streamed = "";
    stream.on("text", (t) => (streamed += t));
    const final = await stream.finalMessage();
    const { response } = await stream.withResponse();
    const requestId = response.headers.get("x-llmgw-request-id") ?? "";
    billed.push(billedAs(requestId, final.model, final.usage, null));
    const text = final.content.find((b) => b.type === "text");
    expect(text?.type === "text" ? text.text : "").toBe(streamed);
    expect(streamed.length).toBeGreaterThan(0);
    expect(final.stop_reason).toBe("end_turn");
    expect(final.usage.input_tokens).toBeGreaterThan(0);
    expect(final.usage.output_tokens).toBeGreaterThan(0);
    expect(response.headers.get("x-llmgw-model")).toBe("claude-3-5-haiku-latest");

    // The raw wire: Anthropic's exact event order, and the gateway's cost on the final message_delta.
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": key, "anthropic-version": "2023-06-01", "content-type": "application/json" },
      body: JSON.stringify({ model: "claude-3-5-haiku-latest", max_tokens: 300, stream: true, messages: [{ role: "user", content: fresh("Describe a forest at dawn.") }] }),
    });
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const frames = (await res.text()).split("\n\n").filter((f) => f.length > 0);
    const events = frames.map((f) => {
      const [nameLine, dataLine] = f.split("\n");
      const data = JSON.parse(dataLine?.slice("data: ".length) ?? "{}") as { type: string; usage?: Usage; llmgw?: { cost_usd: string; model: string } };
      expect(nameLine).toBe(`event: ${data.type}`);
      return data;
    });
    const names = events.map((e) => e.type);
    // The input is reported up front, as Anthropic does (the gateway's estimate; the provider's count follows).
    expect((events[0] as { message?: { usage?: Usage } }).message?.usage?.input_tokens).toBeGreaterThan(0);
    expect(names.slice(0, 3)).toEqual(["message_start", "content_block_start", "ping"]);
    expect(names.slice(3, -3).every((n) => n === "content_block_delta")).toBe(true);
    expect(names.slice(-3)).toEqual(["content_block_stop", "message_delta", "message_stop"]);
    const delta = events.at(-2);
    expect(delta?.llmgw?.model).toBe("claude-3-5-haiku-latest");
    const usage = delta?.usage;
    if (!usage) throw new Error("message_delta without usage");
    billed.push(billedAs(res.headers.get("x-llmgw-request-id") ?? "", "claude-3-5-haiku-latest", usage, null));
    // The cost in the final event is this usage at this model's prices.
    expect(delta?.llmgw?.cost_usd).toBe(picoToUsd(costPico("claude-3-5-haiku-latest", tokensOf(usage))).replace(/\.?0+$/, ""));
  });

  it("a tool round trip: tool_use, then tool_result, then the answer", async () => {
    const question: Anthropic.Messages.MessageParam = { role: "user", content: fresh("What is the weather forecast in Paris today?") };
    const first = await create({ model: "claude-sonnet-4-5", max_tokens: 300, tools: [WEATHER_TOOL], tool_choice: { type: "auto" }, messages: [question] });
    expect(first.msg.stop_reason).toBe("tool_use");
    const use = first.msg.content.find((b) => b.type === "tool_use");
    if (use?.type !== "tool_use") throw new Error("no tool_use block");
    expect(use.name).toBe("get_weather");
    expect(typeof use.input).toBe("object");
    expect(use.id.length).toBeGreaterThan(0);

    const second = await create({
      model: "claude-sonnet-4-5",
      max_tokens: 300,
      tools: [WEATHER_TOOL],
      messages: [question, { role: "assistant", content: first.msg.content as Anthropic.Messages.ContentBlockParam[] }, { role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: "Sunny, 21 C." }] }],
    });
    expect(second.msg.stop_reason).toBe("end_turn");
    expect(second.msg.content.some((b) => b.type === "text")).toBe(true);

    // The same first turn streamed: the tool input arrives as input_json_delta and parses back.
    const stream = client.messages.stream({ model: "claude-sonnet-4-5", max_tokens: 300, tools: [WEATHER_TOOL], tool_choice: { type: "tool", name: "get_weather" }, messages: [{ role: "user", content: fresh("Weather forecast for Lyon?") }] });
    const final = await stream.finalMessage();
    const { response } = await stream.withResponse();
    billed.push(billedAs(response.headers.get("x-llmgw-request-id") ?? "", final.model, final.usage, null));
    const streamedUse = final.content.find((b) => b.type === "tool_use");
    expect(streamedUse?.type === "tool_use" ? streamedUse.name : "").toBe("get_weather");
    expect(streamedUse?.type === "tool_use" ? typeof streamedUse.input : "").toBe("object");
    expect(final.stop_reason).toBe("tool_use");
  });

  it("messages.countTokens counts system, messages and tools with the gateway's tokenizer", async () => {
    const small = await client.messages.countTokens({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "Hello there" }] });
    expect(small.input_tokens).toBeGreaterThan(0);
    const big = await client.messages.countTokens({ model: "auto", system: longText("counting", 20), tools: [WEATHER_TOOL], messages: [{ role: "user", content: "Hello there" }] });
    expect(big.input_tokens).toBeGreaterThan(small.input_tokens + 200);
    await expect(client.messages.countTokens({ model: "claude-nope", messages: [{ role: "user", content: "hi" }] })).rejects.toBeInstanceOf(Anthropic.NotFoundError);
  });

  it("errors are Anthropic-shaped and raised as the SDK's own classes", async () => {
    const bad = new Anthropic({ baseURL: gw.url, apiKey: "not-a-key", maxRetries: 0 });
    await expect(bad.messages.create({ model: "auto", max_tokens: 10, messages: [{ role: "user", content: "hi" }] })).rejects.toBeInstanceOf(Anthropic.AuthenticationError);

    const noMax = { model: "auto", messages: [{ role: "user", content: "hi" }] } as unknown as Anthropic.Messages.MessageCreateParamsNonStreaming;
    const e1 = await client.messages.create(noMax).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(Anthropic.BadRequestError);
    expect((e1 as InstanceType<typeof Anthropic.BadRequestError>).error).toEqual({ type: "error", error: { type: "invalid_request_error", message: "max_tokens: Field required" } });

    const badRole = { model: "auto", max_tokens: 10, messages: [{ role: "system", content: "hi" }] } as unknown as Anthropic.Messages.MessageCreateParamsNonStreaming;
    await expect(client.messages.create(badRole)).rejects.toBeInstanceOf(Anthropic.BadRequestError);
    await expect(client.messages.create({ model: "auto", max_tokens: 10, messages: [] })).rejects.toBeInstanceOf(Anthropic.BadRequestError);
    await expect(client.messages.create({ model: "claude-nope", max_tokens: 10, messages: [{ role: "user", content: "hi" }] })).rejects.toBeInstanceOf(Anthropic.NotFoundError);

    // Malformed JSON and a bad key over raw HTTP: the status and the body Anthropic would send.
    const malformed = await fetch(`${gw.url}/v1/messages`, { method: "POST", headers: { "x-api-key": key, "content-type": "application/json" }, body: "{nope" });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    const huge = await fetch(`${gw.url}/v1/messages`, { method: "POST", headers: { "x-api-key": key, "content-type": "application/json" }, body: JSON.stringify({ ...noMax, max_tokens: 10, messages: [{ role: "user", content: "x".repeat(5 * 1024 * 1024) }] }) });
    expect(huge.status).toBe(413);
    expect(await huge.json()).toMatchObject({ type: "error", error: { type: "request_too_large" } });
    const unauth = await fetch(`${gw.url}/v1/messages/count_tokens`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(unauth.status).toBe(401);
    expect(await unauth.json()).toMatchObject({ type: "error", error: { type: "authentication_error" } });
  });

  it("Claude-Code-like: beta.messages (POST /v1/messages?beta=true), x-api-key, anthropic-beta, system blocks with cache_control, streamed; the prompt cache is written, then read", async () => {
    const cc = new Anthropic({ baseURL: gw.url, apiKey: key, maxRetries: 0, timeout: 30_000, defaultHeaders: { "x-app": "cli" } });
    const system: Anthropic.Messages.TextBlockParam[] = [
      { type: "text", text: "You are Claude Code, Anthropic's official CLI for Claude." },
      { type: "text", text: longText(`repository ${tenant}`, 120), cache_control: { type: "ephemeral" } },
    ];
    const tools: Anthropic.Messages.Tool[] = [{ name: "Read", description: "Reads a file from the local filesystem", input_schema: { type: "object", properties: { file_path: { type: "string" } }, required: ["file_path"] } }];
    const turn = async (messages: Anthropic.Messages.MessageParam[]) => {
      const stream = cc.beta.messages.stream({ model: "claude-sonnet-4-5-20250929", max_tokens: 512, system, tools, messages, metadata: { user_id: "user_abc_session_1" }, betas: ["claude-code-20250219", "interleaved-thinking-2025-05-14"] });
      const final = await stream.finalMessage();
      const { response } = await stream.withResponse();
      billed.push(billedAs(response.headers.get("x-llmgw-request-id") ?? "", final.model, final.usage, null));
      return final;
    };
    const first = await turn([{ role: "user", content: [{ type: "text", text: "Summarise the guide in one line.", cache_control: { type: "ephemeral" } }] }]);
    expect(first.model).toBe("claude-sonnet-4-5");
    expect(first.usage.cache_creation_input_tokens ?? 0).toBeGreaterThan(1000);
    const second = await turn([
      { role: "user", content: "Summarise the guide in one line." },
      { role: "assistant", content: first.content as Anthropic.Messages.ContentBlockParam[] },
      { role: "user", content: [{ type: "text", text: "Which folder holds file 21?", cache_control: { type: "ephemeral" } }] },
    ]);
    expect(second.usage.cache_read_input_tokens ?? 0).toBeGreaterThan(1000);
  });

  it("Authorization: Bearer works too (ANTHROPIC_AUTH_TOKEN)", async () => {
    const bearer = new Anthropic({ baseURL: gw.url, apiKey: null, authToken: key, maxRetries: 0 });
    await create({ model: "claude-3-5-haiku-latest", max_tokens: 50, messages: [{ role: "user", content: fresh("Ping?") }] }, bearer);
  });

  it("the ledger has every call, each at the cost of the usage the client saw", async () => {
    expect(billed.length).toBeGreaterThanOrEqual(12);
    const expectedPico = billed.reduce((s, b) => s + b.pico, 0n);
    const byModel = new Map<string, bigint>();
    for (const b of billed) byModel.set(b.model, (byModel.get(b.model) ?? 0n) + b.pico);
    type Spend = { total: { requests: number; cost_usd: number }; rows: Array<{ model: string; requests: number; cost_usd: number }> };
    const spend = await vi.waitFor(
      async () => {
        const res = await fetch(`${gw.url}/v1/llmgw/spend?since=1h&group_by=model`, { headers: { authorization: `Bearer ${key}` } });
        const s = (await res.json()) as Spend;
        if (s.total.requests < billed.length) throw new Error(`ledger has ${s.total.requests} of ${billed.length} requests`);
        return s;
      },
      { timeout: 20_000, interval: 200 },
    );
    expect(spend.total.requests).toBe(billed.length);
    expect(spend.total.cost_usd).toBeCloseTo(Number(picoToUsd(expectedPico)), 9);
    for (const [model, pico] of byModel) expect(spend.rows.find((r) => r.model === model)?.cost_usd, model).toBeCloseTo(Number(picoToUsd(pico)), 9);
  });
});
