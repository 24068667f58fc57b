import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SIM_HEDGE_PHRASE, startSimulator, type Simulator } from "./server.ts";
import { getEncoder } from "./tokens.ts";

let sim: Simulator;
let client: Anthropic;
const HAIKU = "claude-3-5-haiku-latest";
const SONNET = "claude-sonnet-4-5";

beforeAll(async () => {
  sim = await startSimulator();
  client = new Anthropic({ baseURL: sim.url, apiKey: "x", maxRetries: 0 });
});
afterAll(async () => {
  await sim.close();
});

const tokens = (s: string): number => getEncoder().encode(s).length;

const weatherTool: Anthropic.Tool = {
  name: "get_weather",
  description: "Get the current weather for a city",
  input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
};

function textOf(m: Anthropic.Message): string {
  return m.content.map((b) => (b.type === "text" ? b.text : "")).join("");
}

describe("messages (non-streaming)", () => {
  it("answers deterministically with usage, system as string or blocks", async () => {
    const a = await client.messages.create({ model: HAIKU, max_tokens: 200, system: "Be brief.", messages: [{ role: "user", content: "What is a cache?" }] });
    const b = await client.messages.create({ model: HAIKU, max_tokens: 200, system: [{ type: "text", text: "Be brief." }], messages: [{ role: "user", content: "What is a cache?" }] });
    expect(a.type).toBe("message");
    expect(a.role).toBe("assistant");
    expect(a.stop_reason).toBe("end_turn");
    expect(textOf(a).length).toBeGreaterThan(0);
    expect(a.usage.output_tokens).toBe(tokens(textOf(a)));
    expect(a.usage.input_tokens).toBeGreaterThan(0);
    expect(a.usage.cache_creation_input_tokens).toBe(0);
    expect(a.usage.cache_read_input_tokens).toBe(0);
    expect(b.usage.output_tokens).toBeGreaterThan(0);
  });

  it("max_tokens cuts the answer with stop_reason max_tokens; stop_sequences stop early", async () => {
    const cut = await client.messages.create({ model: SONNET, max_tokens: 5, messages: [{ role: "user", content: "[sim:len=40] go" }] });
    expect(cut.stop_reason).toBe("max_tokens");
    expect(cut.usage.output_tokens).toBe(5);
    const full = await client.messages.create({ model: SONNET, max_tokens: 100, messages: [{ role: "user", content: "[sim:len=40] go" }] });
    const text = textOf(full);
    const stopped = await client.messages.create({ model: SONNET, max_tokens: 100, stop_sequences: ["."], messages: [{ role: "user", content: "[sim:len=40] go" }] });
    expect(stopped.stop_reason).toBe("stop_sequence");
    expect(stopped.stop_sequence).toBe(".");
    expect(textOf(stopped)).toBe(text.slice(0, text.indexOf(".")));
  });

  it("skill: haiku hedges on [sim:hard], sonnet does not", async () => {
    const msgs: Anthropic.MessageParam[] = [{ role: "user", content: "[sim:hard] Derive it." }];
    const weak = await client.messages.create({ model: HAIKU, max_tokens: 300, messages: msgs });
    const strong = await client.messages.create({ model: SONNET, max_tokens: 300, messages: msgs });
    expect(textOf(weak).startsWith(SIM_HEDGE_PHRASE)).toBe(true);
    expect(textOf(strong).includes(SIM_HEDGE_PHRASE)).toBe(false);
  });
});

describe("prompt caching", () => {
  it("writes the prefix up to the cache_control block, then reads it; input_tokens counts only the rest", async () => {
    const doc = `Reference manual. ${"Section text about budgets and routing. ".repeat(150)}`;
    const system: Anthropic.TextBlockParam[] = [
      { type: "text", text: "You answer questions about the manual." },
      { type: "text", text: doc, cache_control: { type: "ephemeral" } },
    ];
    const first = await client.messages.create({ model: SONNET, max_tokens: 50, system, messages: [{ role: "user", content: "Question one?" }] });
    const prefix = tokens("You answer questions about the manual.") + tokens(doc);
    const rest = tokens("Question one?") + 4;
    expect(first.usage.cache_creation_input_tokens).toBe(prefix);
    expect(first.usage.cache_read_input_tokens).toBe(0);
    expect(first.usage.input_tokens).toBe(rest);

    const second = await client.messages.create({ model: SONNET, max_tokens: 50, system, messages: [{ role: "user", content: "Question two, longer?" }] });
    expect(second.usage.cache_creation_input_tokens).toBe(0);
    expect(second.usage.cache_read_input_tokens).toBe(prefix);
    expect(second.usage.input_tokens).toBe(tokens("Question two, longer?") + 4);

    // Another model has its own cache.
    const other = await client.messages.create({ model: HAIKU, max_tokens: 50, system, messages: [{ role: "user", content: "Question one?" }] });
    expect(other.usage.cache_creation_input_tokens).toBe(prefix);
  });

  it("multi-turn: a later breakpoint reads the earlier cached prefix and writes only the new span", async () => {
    const big = "Long conversation context. ".repeat(100);
    const turn1: Anthropic.MessageParam[] = [{ role: "user", content: [{ type: "text", text: big, cache_control: { type: "ephemeral" } }] }];
    const r1 = await client.messages.create({ model: HAIKU, max_tokens: 20, messages: turn1 });
    const t1 = tokens(big) + 4;
    expect(r1.usage.cache_creation_input_tokens).toBe(t1);
    const turn2: Anthropic.MessageParam[] = [
      { role: "user", content: [{ type: "text", text: big }] },
      { role: "assistant", content: textOf(r1) },
      { role: "user", content: [{ type: "text", text: "Follow-up question", cache_control: { type: "ephemeral" } }] },
    ];
    const r2 = await client.messages.create({ model: HAIKU, max_tokens: 20, messages: turn2 });
    expect(r2.usage.cache_read_input_tokens).toBe(t1);
    expect(r2.usage.cache_creation_input_tokens).toBe(tokens(textOf(r1)) + 4 + tokens("Follow-up question") + 4);
    expect(r2.usage.input_tokens).toBe(0);
  });
});

describe("streaming", () => {
  it("emits the real event sequence and the SDK assembles the same message", async () => {
    const params = { model: SONNET, max_tokens: 200, messages: [{ role: "user" as const, content: "Stream this." }] };
    const plain = await client.messages.create(params);
    const types: string[] = [];
    const stream = client.messages.stream(params);
    stream.on("streamEvent", (e) => types.push(e.type));
    const final = await stream.finalMessage();
    expect(textOf(final)).toBe(textOf(plain));
    expect(final.stop_reason).toBe("end_turn");
    expect(final.usage.output_tokens).toBe(plain.usage.output_tokens);
    expect(final.usage.input_tokens).toBe(plain.usage.input_tokens);
    expect(types[0]).toBe("message_start");
    expect(types[1]).toBe("content_block_start");
    expect(types.filter((t) => t === "content_block_delta").length).toBe(plain.usage.output_tokens);
    expect(types.slice(-3)).toEqual(["content_block_stop", "message_delta", "message_stop"]);
  });

  it("writes event: lines on the wire", async () => {
    const res = await fetch(`${sim.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": "x", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model: SONNET, max_tokens: 10, stream: true, messages: [{ role: "user", content: "[sim:len=3] hi" }] }),
    });
    const body = await res.text();
    expect(body.startsWith("event: message_start\ndata: {")).toBe(true);
    expect(body).toContain("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\"");
    expect(body.endsWith('event: message_stop\ndata: {"type":"message_stop"}\n\n')).toBe(true);
  });

  it("streams tool_use with input_json_delta", async () => {
    const stream = client.messages.stream({ model: SONNET, max_tokens: 200, tools: [weatherTool], messages: [{ role: "user", content: "What's the weather in Lisbon?" }] });
    const final = await stream.finalMessage();
    expect(final.stop_reason).toBe("tool_use");
    const block = final.content[0];
    expect(block?.type).toBe("tool_use");
    if (block?.type !== "tool_use") throw new Error("expected tool_use");
    expect(block.input).toEqual({ city: "Lisbon" });
  });
});

describe("tools", () => {
  it("tool_use, then a text answer after tool_result", async () => {
    const first = await client.messages.create({ model: SONNET, max_tokens: 200, tools: [weatherTool], messages: [{ role: "user", content: "weather in Rome please" }] });
    expect(first.stop_reason).toBe("tool_use");
    const use = first.content.find((b): b is Anthropic.ToolUseBlock => b.type === "tool_use");
    expect(use?.name).toBe("get_weather");
    expect(use?.id.startsWith("toolu_")).toBe(true);
    if (use === undefined) throw new Error("no tool_use");
    const second = await client.messages.create({
      model: SONNET,
      max_tokens: 200,
      tools: [weatherTool],
      messages: [
        { role: "user", content: "weather in Rome please" },
        { role: "assistant", content: first.content },
        { role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: "22C and sunny" }] },
      ],
    });
    expect(second.stop_reason).toBe("end_turn");
    expect(textOf(second).length).toBeGreaterThan(0);
  });

  it("tool_choice any forces a call; none prevents it", async () => {
    const forced = await client.messages.create({ model: SONNET, max_tokens: 200, tools: [weatherTool], tool_choice: { type: "any" }, messages: [{ role: "user", content: "hello" }] });
    expect(forced.stop_reason).toBe("tool_use");
    const none = await client.messages.create({ model: SONNET, max_tokens: 200, tools: [weatherTool], tool_choice: { type: "none" }, messages: [{ role: "user", content: "weather in Rome" }] });
    expect(none.stop_reason).toBe("end_turn");
  });
});

describe("errors", () => {
  it("429 with retry-after in Anthropic's error shape", async () => {
    sim.addFault({ model: HAIKU, status: 429, count: 1, retryAfterSec: 3 });
    const err = await client.messages.create({ model: HAIKU, max_tokens: 10, messages: [{ role: "user", content: "hi" }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    if (!(err instanceof Anthropic.RateLimitError)) throw err;
    expect(err.headers.get("retry-after")).toBe("3");
    expect(err.error).toEqual({ type: "error", error: { type: "rate_limit_error", message: expect.any(String) } });
  });

  it("500/503 markers, 404 model, too-long prompt, timeout", async () => {
    await expect(client.messages.create({ model: SONNET, max_tokens: 10, messages: [{ role: "user", content: "[sim:500]" }] })).rejects.toBeInstanceOf(Anthropic.InternalServerError);
    const overloaded = await client.messages.create({ model: SONNET, max_tokens: 10, messages: [{ role: "user", content: "[sim:503]" }] }).catch((e: unknown) => e);
    expect(overloaded).toBeInstanceOf(Anthropic.InternalServerError);
    const missing = await client.messages.create({ model: "claude-nope", max_tokens: 10, messages: [{ role: "user", content: "hi" }] }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(Anthropic.NotFoundError);
    if (!(missing instanceof Anthropic.NotFoundError)) throw missing;
    expect(missing.error).toMatchObject({ type: "error", error: { type: "not_found_error" } });
    sim.addFault({ status: 500, count: 0 }); // count 0 is a no-op
    const sim2 = await startSimulator({ models: [{ id: "tiny", skill: 0.5, contextWindow: 50 }] });
    try {
      const c2 = new Anthropic({ baseURL: sim2.url, apiKey: "x", maxRetries: 0 });
      const long = await c2.messages.create({ model: "tiny", max_tokens: 10, messages: [{ role: "user", content: "word ".repeat(100) }] }).catch((e: unknown) => e);
      expect(long).toBeInstanceOf(Anthropic.BadRequestError);
      if (!(long instanceof Anthropic.BadRequestError)) throw long;
      expect(long.error).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    } finally {
      await sim2.close();
    }
    const timedOut = await client.messages.create({ model: SONNET, max_tokens: 10, messages: [{ role: "user", content: "[sim:timeout]" }] }, { timeout: 200 }).catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(Anthropic.APIConnectionTimeoutError);
  });

  it("missing max_tokens or malformed JSON is a 400 invalid_request_error", async () => {
    const res = await fetch(`${sim.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: "{bad json" });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    const res2 = await fetch(`${sim.url}/v1/messages`, { method: "POST", body: JSON.stringify({ model: SONNET, messages: [{ role: "user", content: "hi" }] }) });
    expect(res2.status).toBe(400);
  });
});

describe("count_tokens and models", () => {
  it("counts input tokens without calling the model", async () => {
    const before = sim.stats().requests;
    const r = await client.messages.countTokens({ model: SONNET, messages: [{ role: "user", content: "How many tokens?" }] });
    expect(r.input_tokens).toBe(tokens("How many tokens?") + 4);
    expect(sim.stats().requests).toBe(before);
  });

  it("lists models in Anthropic's shape", async () => {
    const page = await client.models.list();
    expect(page.data.map((m) => m.id)).toContain(SONNET);
  });
});
