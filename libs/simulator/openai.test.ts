import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SIM_HEDGE_PHRASE, SIM_REFUSAL, startSimulator, type Simulator } from "./server.ts";
import { getEncoder } from "./tokens.ts";

let sim: Simulator;
let client: OpenAI;

beforeAll(async () => {
  sim = await startSimulator();
  client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: "x", maxRetries: 0 });
});
afterAll(async () => {
  await sim.close();
});

const tokens = (s: string): number => getEncoder().encode(s).length;

const weatherTool: OpenAI.Chat.Completions.ChatCompletionTool = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Get the current weather for a city",
    parameters: {
      type: "object",
      properties: { city: { type: "string" }, unit: { type: "string", enum: ["celsius", "fahrenheit"] }, days: { type: "integer", minimum: 1 } },
      required: ["city", "unit", "days"],
      additionalProperties: false,
    },
  },
};

describe("chat completions (non-streaming)", () => {
  it("answers deterministically with exact token usage", async () => {
    const req = { model: "gpt-4o-mini", messages: [{ role: "system" as const, content: "Be brief." }, { role: "user" as const, content: "What is a cache?" }] };
    const a = await client.chat.completions.create(req);
    const b = await client.chat.completions.create(req);
    expect(a.object).toBe("chat.completion");
    expect(a.id).not.toBe(b.id);
    const text = a.choices[0]?.message.content ?? "";
    expect(text).toBe(b.choices[0]?.message.content);
    expect(a.choices[0]?.finish_reason).toBe("stop");
    const usage = a.usage;
    expect(usage?.completion_tokens).toBe(tokens(text));
    expect(usage?.completion_tokens).toBeGreaterThanOrEqual(20);
    expect(usage?.completion_tokens).toBeLessThanOrEqual(120);
    // 2 messages x (4 framing + content) + 3 priming
    expect(usage?.prompt_tokens).toBe(4 + tokens("Be brief.") + 4 + tokens("What is a cache?") + 3);
    expect(usage?.total_tokens).toBe((usage?.prompt_tokens ?? 0) + (usage?.completion_tokens ?? 0));
    expect(usage?.prompt_tokens_details?.cached_tokens).toBe(0);
  });

  it("capable models agree on easy prompts; [sim:hard] separates weak from strong", async () => {
    const easy = [{ role: "user" as const, content: "Explain rate limits." }];
    const mini = await client.chat.completions.create({ model: "gpt-4o-mini", messages: easy });
    const big = await client.chat.completions.create({ model: "gpt-4o", messages: easy });
    expect(mini.choices[0]?.message.content).toBe(big.choices[0]?.message.content);

    const hard = [{ role: "user" as const, content: "[sim:hard] Prove the theorem." }];
    const weak = await client.chat.completions.create({ model: "gpt-4o-mini", messages: hard });
    const strong = await client.chat.completions.create({ model: "gpt-4o", messages: hard });
    const veryWeak = await client.chat.completions.create({ model: "small-8k", messages: hard });
    expect(weak.choices[0]?.message.content?.startsWith(SIM_HEDGE_PHRASE)).toBe(true);
    expect(weak.choices[0]?.finish_reason).toBe("stop");
    expect(strong.choices[0]?.message.content?.includes(SIM_HEDGE_PHRASE)).toBe(false);
    expect(veryWeak.choices[0]?.message.content?.startsWith(SIM_HEDGE_PHRASE)).toBe(true);
    expect(veryWeak.choices[0]?.finish_reason).toBe("length");
  });

  it("honours max_tokens, [sim:len=N], [sim:truncate] and [sim:refuse]", async () => {
    const cut = await client.chat.completions.create({ model: "gpt-4o", max_tokens: 7, messages: [{ role: "user", content: "[sim:len=50] hi" }] });
    expect(cut.choices[0]?.finish_reason).toBe("length");
    expect(cut.usage?.completion_tokens).toBe(7);
    expect(tokens(cut.choices[0]?.message.content ?? "")).toBe(7);

    const len = await client.chat.completions.create({ model: "gpt-4o", max_completion_tokens: 100, messages: [{ role: "user", content: "[sim:len=33] hi" }] });
    expect(len.usage?.completion_tokens).toBe(33);
    expect(len.choices[0]?.finish_reason).toBe("stop");

    const trunc = await client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "[sim:truncate] hi" }] });
    expect(trunc.choices[0]?.finish_reason).toBe("length");

    const refuse = await client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "[sim:refuse] do it" }] });
    expect(refuse.choices[0]?.message.content).toBe(SIM_REFUSAL);
  });

  it("stops at a stop sequence", async () => {
    const full = await client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "[sim:len=60] stop test" }] });
    const text = full.choices[0]?.message.content ?? "";
    const stopAt = text.indexOf(".");
    expect(stopAt).toBeGreaterThan(0);
    const stopped = await client.chat.completions.create({ model: "gpt-4o", stop: ["."], messages: [{ role: "user", content: "[sim:len=60] stop test" }] });
    expect(stopped.choices[0]?.message.content).toBe(text.slice(0, stopAt));
    expect(stopped.choices[0]?.finish_reason).toBe("stop");
  });

  it("reports reasoning tokens for reasoning models, inside completion_tokens", async () => {
    const r = await client.chat.completions.create({ model: "o3-mini", messages: [{ role: "user", content: "Think about it." }] });
    const reasoning = r.usage?.completion_tokens_details?.reasoning_tokens ?? 0;
    expect(reasoning).toBeGreaterThan(0);
    expect(r.usage?.completion_tokens).toBe(reasoning + tokens(r.choices[0]?.message.content ?? ""));
  });

  it("simulates automatic prompt caching for prefixes of >= 1024 tokens, in 128-token blocks", async () => {
    const system = `You are a careful assistant. ${"Policy clause about caching and routing. ".repeat(200)}`;
    const first = await client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "system", content: system }, { role: "user", content: "first question" }] });
    expect(first.usage?.prompt_tokens).toBeGreaterThan(1024);
    expect(first.usage?.prompt_tokens_details?.cached_tokens).toBe(0);
    const second = await client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "system", content: system }, { role: "user", content: "another question" }] });
    const systemSegment = 4 + tokens(system);
    expect(second.usage?.prompt_tokens_details?.cached_tokens).toBe(Math.floor(systemSegment / 128) * 128);
    // Caches are per model.
    const other = await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "system", content: system }, { role: "user", content: "another question" }] });
    expect(other.usage?.prompt_tokens_details?.cached_tokens).toBe(0);
    // Short prompts never cache.
    const short = await client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "first question" }] });
    await client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "first question" }] });
    expect(short.usage?.prompt_tokens_details?.cached_tokens).toBe(0);
  });

  it("returns n choices", async () => {
    const r = await client.chat.completions.create({ model: "gpt-4o", n: 3, messages: [{ role: "user", content: "three please" }] });
    expect(r.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(new Set(r.choices.map((c) => c.message.content)).size).toBe(3);
  });
});

describe("chat completions (streaming)", () => {
  it("streams token chunks, then a usage chunk, matching the non-streamed answer", async () => {
    const messages = [{ role: "user" as const, content: "Stream me something." }];
    const plain = await client.chat.completions.create({ model: "gpt-4o-mini", messages });
    const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages, stream: true, stream_options: { include_usage: true } });
    let text = "";
    let chunks = 0;
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      chunks++;
      expect(chunk.object).toBe("chat.completion.chunk");
      if (chunk.choices.length === 0) usage = chunk.usage;
      const c = chunk.choices[0];
      if (c !== undefined) {
        text += c.delta.content ?? "";
        if (c.finish_reason !== null) finish = c.finish_reason;
      }
    }
    expect(text).toBe(plain.choices[0]?.message.content);
    expect(finish).toBe("stop");
    expect(usage?.completion_tokens).toBe(plain.usage?.completion_tokens);
    expect(usage?.prompt_tokens).toBe(plain.usage?.prompt_tokens);
    expect(chunks).toBe((plain.usage?.completion_tokens ?? 0) + 3); // role chunk + one per token + finish + usage
  });

  it("ends with data: [DONE] on the wire and omits usage without include_usage", async () => {
    const res = await fetch(`${sim.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o", stream: true, messages: [{ role: "user", content: "[sim:len=5] hi" }] }),
    });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const body = await res.text();
    expect(body.endsWith("data: [DONE]\n\n")).toBe(true);
    expect(body).not.toContain('"usage"');
    expect(body.split("\n\n").filter((f) => f.startsWith("data: {")).length).toBe(7);
  });
});

describe("tools and structured output", () => {
  it("calls a matching tool with schema-valid JSON arguments, then answers from the tool result", async () => {
    const r = await client.chat.completions.create({
      model: "gpt-4o",
      tools: [weatherTool],
      messages: [{ role: "user", content: "What's the weather in Paris for 3 days?" }],
    });
    const choice = r.choices[0];
    expect(choice?.finish_reason).toBe("tool_calls");
    const call = choice?.message.tool_calls?.[0];
    expect(call?.type).toBe("function");
    if (call?.type !== "function") throw new Error("expected a function call");
    expect(call.function.name).toBe("get_weather");
    expect(JSON.parse(call.function.arguments)).toEqual({ city: "Paris", unit: "celsius", days: 3 });
    expect(choice?.message.content).toBeNull();

    const followUp = await client.chat.completions.create({
      model: "gpt-4o",
      tools: [weatherTool],
      messages: [
        { role: "user", content: "What's the weather in Paris for 3 days?" },
        { role: "assistant", content: null, tool_calls: [call] },
        { role: "tool", tool_call_id: call.id, content: '{"temp": 21}' },
      ],
    });
    expect(followUp.choices[0]?.finish_reason).toBe("stop");
    expect(followUp.choices[0]?.message.content?.length).toBeGreaterThan(0);
  });

  it("does not call tools for unrelated questions, unless tool_choice forces one", async () => {
    const unrelated = await client.chat.completions.create({ model: "gpt-4o", tools: [weatherTool], messages: [{ role: "user", content: "Tell me a joke" }] });
    expect(unrelated.choices[0]?.finish_reason).toBe("stop");
    const forced = await client.chat.completions.create({
      model: "gpt-4o",
      tools: [weatherTool],
      tool_choice: { type: "function", function: { name: "get_weather" } },
      messages: [{ role: "user", content: "Tell me a joke" }],
    });
    expect(forced.choices[0]?.finish_reason).toBe("tool_calls");
  });

  it("streams tool call deltas that reassemble into the arguments", async () => {
    const stream = await client.chat.completions.create({ model: "gpt-4o", tools: [weatherTool], stream: true, messages: [{ role: "user", content: "weather in Oslo?" }] });
    let args = "";
    let name = "";
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      const d = chunk.choices[0]?.delta.tool_calls?.[0];
      if (d?.function?.name !== undefined) name = d.function.name;
      args += d?.function?.arguments ?? "";
      if (chunk.choices[0]?.finish_reason) finish = chunk.choices[0].finish_reason;
    }
    expect(name).toBe("get_weather");
    expect(JSON.parse(args)).toMatchObject({ city: "Oslo" });
    expect(finish).toBe("tool_calls");
  });

  it("returns valid JSON for json_object and json_schema response formats", async () => {
    const obj = await client.chat.completions.create({ model: "gpt-4o", response_format: { type: "json_object" }, messages: [{ role: "user", content: "json please" }] });
    const parsed: unknown = JSON.parse(obj.choices[0]?.message.content ?? "");
    expect(typeof parsed).toBe("object");
    expect(obj.usage?.completion_tokens).toBe(tokens(obj.choices[0]?.message.content ?? ""));
    const schema = await client.chat.completions.create({
      model: "gpt-4o",
      response_format: {
        type: "json_schema",
        json_schema: { name: "person", schema: { type: "object", properties: { name: { type: "string" }, age: { type: "integer" }, tags: { type: "array", items: { type: "string" } } }, required: ["name", "age", "tags"] } },
      },
      messages: [{ role: "user", content: "Describe Ada Lovelace" }],
    });
    expect(JSON.parse(schema.choices[0]?.message.content ?? "")).toEqual({ name: "Ada Lovelace", age: 1, tags: ["example"] });
  });
});

describe("errors and faults", () => {
  it("404 for an unknown model, in OpenAI's shape", async () => {
    const err = await client.chat.completions.create({ model: "nope", messages: [{ role: "user", content: "hi" }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    if (!(err instanceof OpenAI.NotFoundError)) throw err;
    expect(err.code).toBe("model_not_found");
  });

  it("400 context_length_exceeded over the model's window", async () => {
    const err = await client.chat.completions.create({ model: "small-8k", messages: [{ role: "user", content: "word ".repeat(9000) }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    if (!(err instanceof OpenAI.BadRequestError)) throw err;
    expect(err.code).toBe("context_length_exceeded");
  });

  it("400 on malformed JSON", async () => {
    const res = await fetch(`${sim.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: "{nope" });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { type: string } };
    expect(body.error.type).toBe("invalid_request_error");
  });

  it("addFault rules: count-limited, per model, with retry-after", async () => {
    sim.addFault({ model: "gpt-4o-mini", status: 429, count: 2, retryAfterSec: 7 });
    const msg = [{ role: "user" as const, content: "fault me" }];
    for (let i = 0; i < 2; i++) {
      const err = await client.chat.completions.create({ model: "gpt-4o-mini", messages: msg }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.RateLimitError);
      if (!(err instanceof OpenAI.RateLimitError)) throw err;
      expect(err.headers.get("retry-after")).toBe("7");
    }
    await expect(client.chat.completions.create({ model: "gpt-4o-mini", messages: msg })).resolves.toBeDefined();

    sim.addFault({ model: "gpt-4o", status: 500, count: 1 });
    await expect(client.chat.completions.create({ model: "gpt-4o-mini", messages: msg })).resolves.toBeDefined(); // other model unaffected
    await expect(client.chat.completions.create({ model: "gpt-4o", messages: msg })).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    sim.addFault({ status: 503, count: 5 });
    await expect(client.chat.completions.create({ model: "gpt-4o", messages: msg })).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    sim.clearFaults();
    await expect(client.chat.completions.create({ model: "gpt-4o", messages: msg })).resolves.toBeDefined();
  });

  it("POST/DELETE /_sim/faults control endpoint", async () => {
    const post = await fetch(`${sim.url}/_sim/faults`, { method: "POST", body: JSON.stringify({ status: 400, count: 3 }) });
    expect(post.status).toBe(200);
    await expect(client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "x" }] })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await fetch(`${sim.url}/_sim/faults`, { method: "DELETE" });
    await expect(client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "x" }] })).resolves.toBeDefined();
  });

  it("markers [sim:429] / [sim:500] / [sim:503]", async () => {
    const e429 = await client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "[sim:429] hi" }] }).catch((e: unknown) => e);
    expect(e429).toBeInstanceOf(OpenAI.RateLimitError);
    if (!(e429 instanceof OpenAI.RateLimitError)) throw e429;
    expect(e429.headers.get("retry-after")).toBe("1");
    await expect(client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "[sim:500] hi" }] })).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    const e503 = await client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "[sim:503] hi" }] }).catch((e: unknown) => e);
    expect(e503).toBeInstanceOf(OpenAI.InternalServerError);
    if (!(e503 instanceof OpenAI.APIError)) throw e503;
    expect(e503.status).toBe(503);
  });

  it("[sim:timeout] hangs until the SDK's timeout fires", async () => {
    const err = await client.chat.completions
      .create({ model: "gpt-4o", messages: [{ role: "user", content: "[sim:timeout] hi" }] }, { timeout: 200 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
  });

  it("counts calls per model", async () => {
    const before = sim.stats();
    await client.chat.completions.create({ model: "gpt-4.1-nano", messages: [{ role: "user", content: "count me" }] });
    const after = sim.stats();
    expect(after.requests).toBe(before.requests + 1);
    expect(after.byModel["gpt-4.1-nano"]).toBe((before.byModel["gpt-4.1-nano"] ?? 0) + 1);
  });
});

describe("models and embeddings", () => {
  it("lists the default catalogue", async () => {
    const ids: string[] = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toEqual(expect.arrayContaining(["gpt-4o-mini", "gpt-4o", "gpt-4.1-nano", "o3-mini", "small-8k", "claude-3-5-haiku-latest", "claude-sonnet-4-5", "text-embedding-3-small"]));
  });

  it("returns deterministic unit vectors where shared words mean similarity (base64 default and float)", async () => {
    const r = await client.embeddings.create({ model: "text-embedding-3-small", input: ["What is the capital of France?", "capital of France", "How do I bake bread?"] });
    expect(r.data).toHaveLength(3);
    const [a, b, c] = r.data.map((d) => d.embedding);
    if (a === undefined || b === undefined || c === undefined) throw new Error("missing vectors");
    expect(a).toHaveLength(1536);
    const dot = (x: number[], y: number[]): number => x.reduce((s, v, i) => s + v * (y[i] ?? 0), 0);
    expect(dot(a, a)).toBeCloseTo(1, 5);
    expect(dot(a, b)).toBeGreaterThan(dot(a, c) + 0.3);
    const floats = await client.embeddings.create({ model: "text-embedding-3-small", input: "capital of France", encoding_format: "float", dimensions: 256 });
    expect(floats.data[0]?.embedding).toHaveLength(256);
    expect(r.usage.prompt_tokens).toBeGreaterThan(0);
  });
});
