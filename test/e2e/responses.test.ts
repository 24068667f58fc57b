// The OpenAI Responses API on the edge, driven by the official openai SDK against both run modes:
// responses.create (auto and a named model), streaming (typed events, sequence numbers, usage and the
// gateway's cost on response.completed), a function-tool round trip through previous_response_id,
// text.format json_schema, retrieve and delete, a continuation kept on the previous turn's model,
// tenant isolation, bad input as 400s naming the param, and the ledger billing every call at the cost
// computed here from the usage the client saw and prices typed by hand. Then a client nobody here
// wrote: the Vercel AI SDK's default OpenAI provider (createOpenAI()(model) speaks the Responses API).
import { randomUUID } from "node:crypto";
import { createOpenAI } from "@ai-sdk/openai";
import { generateText, jsonSchema, stepCountIs, streamText, tool } from "ai";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { MODES, startGateway, type Gateway } from "./harness.ts";
import { costPico, picoToUsd, type Tokens } from "./support-ledger/money.ts";

const HARD = "Prove step by step that the square root of 2 is irrational, then analyze why the proof works and compare it with a proof by infinite descent. Derive every step rigorously.";
// Letters only: eight random hex digits can be all digits, which the cache's privacy detectors may take
// for a phone number or an id (the request then bypasses the cache).
const fresh = (text: string) => `${text} (run ${randomUUID().replace(/[^a-f]/g, "").padEnd(8, "x").slice(0, 8)})`;

const WEATHER_TOOL: OpenAI.Responses.FunctionTool = {
  type: "function",
  name: "get_weather",
  description: "Get the current weather forecast for a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false },
  strict: true,
};

/** Disjoint token kinds from Responses usage (input counts cached reads, output counts reasoning). */
function tokensOf(u: OpenAI.Responses.ResponseUsage): Tokens {
  const cached = u.input_tokens_details.cached_tokens;
  return { input: u.input_tokens - cached, cached, write5m: 0, write1h: 0, output: u.output_tokens, reasoning: u.output_tokens_details.reasoning_tokens };
}

describe.each(MODES)("Responses API through the openai SDK (%s)", (mode) => {
  let gw: Gateway;
  let client: OpenAI;
  let clientKey: string;
  let other: OpenAI;
  /** A tenant of its own whose every call is billed, for the ledger check. */
  let billedClient: OpenAI;
  let billedKey: string;
  const billed: { model: string; pico: bigint }[] = [];
  const bill = (r: { model: string; usage?: OpenAI.Responses.ResponseUsage }) => {
    if (!r.usage) throw new Error("no usage");
    billed.push({ model: r.model, pico: costPico(r.model, tokensOf(r.usage)) });
  };

  beforeAll(async () => {
    gw = await startGateway(mode);
    const opts = { baseURL: `${gw.url}/v1`, maxRetries: 0, timeout: 20_000 };
    clientKey = await gw.createKey(`resp-${randomUUID().slice(0, 8)}`);
    client = new OpenAI({ ...opts, apiKey: clientKey });
    other = new OpenAI({ ...opts, apiKey: await gw.createKey(`resp-other-${randomUUID().slice(0, 8)}`) });
    billedKey = await gw.createKey(`resp-billed-${randomUUID().slice(0, 8)}`);
    // Gateway caching off: every call reaches the provider and costs money.
    billedClient = new OpenAI({ ...opts, apiKey: billedKey, defaultHeaders: { "x-llmgw-cache": "off" } });
  }, 60_000);

  afterAll(async () => {
    await gw?.stop();
  });

  it("create with model auto: a completed response with a message, usage and the x-llmgw-* headers", async () => {
    const { data, response } = await client.responses.create({ model: "auto", input: fresh("What is the capital of France?") }).withResponse();
    expect(data.id).toMatch(/^resp_[0-9a-f]{32}$/);
    expect(data.object).toBe("response");
    expect(data.status).toBe("completed");
    expect(data.output).toHaveLength(1);
    const msg = data.output[0];
    expect(msg?.type).toBe("message");
    if (msg?.type !== "message") throw new Error("expected a message");
    expect(msg.id).toMatch(/^msg_/);
    expect(msg.role).toBe("assistant");
    expect(msg.content[0]?.type).toBe("output_text");
    expect(data.output_text.length).toBeGreaterThan(0);
    expect(data.usage?.input_tokens).toBeGreaterThan(0);
    expect(data.usage?.output_tokens).toBeGreaterThan(0);
    expect(data.usage?.total_tokens).toBe((data.usage?.input_tokens ?? 0) + (data.usage?.output_tokens ?? 0));
    expect(data.created_at).toBeGreaterThan(0);
    // Not in the SDK's type, on OpenAI's wire object: store; the SDK's own convenience, not on the wire: output_text.
    const raw = (await (await fetch(`${gw.url}/v1/responses/${data.id}`, { headers: { authorization: `Bearer ${clientKey}` } })).json()) as Record<string, unknown>;
    expect(raw["store"]).toBe(true);
    expect(raw["output_text"]).toBeUndefined();
    expect(response.headers.get("x-llmgw-request-id")?.replaceAll("-", "")).toBe(data.id.slice(5));
    expect(response.headers.get("x-llmgw-model")).toBe(data.model);
    expect(response.headers.get("x-llmgw-tier")).toBeTruthy();
    expect(response.headers.get("x-llmgw-cache")).toBe("miss");
    expect(Number(response.headers.get("x-llmgw-cost-usd"))).toBeGreaterThan(0);
  });

  it("create with a named model, instructions, max_output_tokens and metadata echoed", async () => {
    const r = await billedClient.responses.create({ model: "gpt-4o-mini", instructions: "Answer in one short sentence.", input: fresh("Name a primary colour."), max_output_tokens: 200, temperature: 0.2, metadata: { ticket: "T-1" } });
    bill(r);
    expect(r.model).toBe("gpt-4o-mini");
    expect(r.instructions).toBe("Answer in one short sentence.");
    expect(r.max_output_tokens).toBe(200);
    expect(r.temperature).toBe(0.2);
    expect(r.metadata).toEqual({ ticket: "T-1" });
    expect(r.output_text.length).toBeGreaterThan(0);
  });

  it("reasoning.effort reaches the model as reasoning_effort and is echoed; auto then routes to a reasoning model", async () => {
    const r = await client.responses.create({ model: "auto", input: fresh("Is 91 a prime number?"), reasoning: { effort: "low" } });
    expect(r.reasoning?.effort).toBe("low");
    expect(r.model).toBe("o3-mini");
    expect(r.usage?.output_tokens_details.reasoning_tokens).toBeGreaterThan(0);
    // A named model that takes no reasoning effort is refused, as its provider would refuse it.
    const e = await client.responses.create({ model: "gpt-4o-mini", input: "x", reasoning: { effort: "low" } }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
    expect((e as InstanceType<typeof OpenAI.BadRequestError>).message).toMatch(/reasoning/);
  });

  it("streams typed events with sequence numbers, ending in response.completed with usage and the gateway's cost", async () => {
    const { data: stream, response } = await billedClient.responses.create({ model: "gpt-4o-mini", input: fresh("Describe a sunrise over the sea in two sentences."), stream: true }).withResponse();
    expect(response.headers.get("content-type")).toMatch(/text\/event-stream/);
    expect(response.headers.get("x-llmgw-model")).toBe("gpt-4o-mini");
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const e of stream) events.push(e);
    const types = events.map((e) => e.type);
    expect(types.slice(0, 4)).toEqual(["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"]);
    expect(types.slice(-4)).toEqual(["response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"]);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const deltas = events.flatMap((e) => (e.type === "response.output_text.delta" ? [e.delta] : []));
    expect(deltas.length).toBeGreaterThan(1);
    const done = events.find((e) => e.type === "response.output_text.done");
    expect(done?.type === "response.output_text.done" && done.text).toBe(deltas.join(""));
    const completed = events.at(-1);
    if (completed?.type !== "response.completed") throw new Error("no response.completed");
    expect(completed.response.status).toBe("completed");
    expect(completed.response.usage?.output_tokens).toBeGreaterThan(0);
    const output = completed.response.output[0];
    expect(output?.type === "message" && output.content[0]?.type === "output_text" && output.content[0].text).toBe(deltas.join(""));
    const ext = (completed.response as unknown as { llmgw?: { cost_usd?: string; model?: string } }).llmgw;
    expect(ext?.model).toBe("gpt-4o-mini");
    const usage = completed.response.usage;
    if (!usage) throw new Error("no usage");
    expect(ext?.cost_usd).toBe(picoToUsd(costPico("gpt-4o-mini", tokensOf(usage))).replace(/\.?0+$/, ""));
    bill(completed.response);
    // Stored like any other: retrieve gives the same answer.
    const got = await billedClient.responses.retrieve(completed.response.id);
    expect(got.output_text).toBe(deltas.join(""));
  });

  it("the SDK's responses.stream helper assembles the final response", async () => {
    const stream = client.responses.stream({ model: "auto", input: fresh("Tell me a short fact about the moon.") });
    const final = await stream.finalResponse();
    expect(final.status).toBe("completed");
    expect(final.output_text.length).toBeGreaterThan(0);
  });

  it("a function tool round trip: function_call, then function_call_output with previous_response_id, then an answer", async () => {
    const first = await billedClient.responses.create({ model: "gpt-4o-mini", input: fresh("What's the weather in Paris today?"), tools: [WEATHER_TOOL] });
    bill(first);
    const call = first.output.find((o): o is OpenAI.Responses.ResponseFunctionToolCall => o.type === "function_call");
    expect(call?.name).toBe("get_weather");
    expect(call?.id).toMatch(/^fc_/);
    expect(call?.call_id).toBeTruthy();
    expect(JSON.parse(call?.arguments ?? "")).toHaveProperty("city");
    const second = await billedClient.responses.create({
      model: "gpt-4o-mini",
      previous_response_id: first.id,
      tools: [WEATHER_TOOL],
      input: [{ type: "function_call_output", call_id: call?.call_id ?? "", output: JSON.stringify({ city: "Paris", forecast: "sunny, 24°C" }) }],
    });
    bill(second);
    expect(second.previous_response_id).toBe(first.id);
    expect(second.output.some((o) => o.type === "function_call")).toBe(false);
    expect(second.output_text.length).toBeGreaterThan(0);
    // The whole conversation went to the provider: the second prompt holds the first turn.
    expect(second.usage?.input_tokens).toBeGreaterThan(first.usage?.input_tokens ?? 0);
  });

  it("a streamed tool call: output_item.added, function_call_arguments deltas and done", async () => {
    const stream = await client.responses.create({ model: "auto", input: fresh("What's the weather in Rome?"), tools: [WEATHER_TOOL], tool_choice: { type: "function", name: "get_weather" }, stream: true });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const e of stream) events.push(e);
    const added = events.find((e) => e.type === "response.output_item.added");
    expect(added?.type === "response.output_item.added" && added.item.type).toBe("function_call");
    const deltas = events.flatMap((e) => (e.type === "response.function_call_arguments.delta" ? [e.delta] : []));
    const done = events.find((e) => e.type === "response.function_call_arguments.done");
    if (done?.type !== "response.function_call_arguments.done") throw new Error("no arguments.done");
    expect(done.name).toBe("get_weather");
    expect(done.arguments).toBe(deltas.join(""));
    expect(JSON.parse(done.arguments)).toHaveProperty("city");
    expect(events.at(-1)?.type).toBe("response.completed");
  });

  it("text.format json_schema returns JSON that fits the schema", async () => {
    const r = await client.responses.create({
      model: "auto",
      input: fresh("Give me a city and its country."),
      text: { format: { type: "json_schema", name: "place", strict: true, schema: { type: "object", properties: { city: { type: "string" }, country: { type: "string" } }, required: ["city", "country"], additionalProperties: false } } },
    });
    const v = JSON.parse(r.output_text) as Record<string, unknown>;
    expect(typeof v["city"]).toBe("string");
    expect(typeof v["country"]).toBe("string");
    expect(r.text?.format?.type).toBe("json_schema");
  });

  it("retrieve returns the stored response, inputItems.list its input; delete removes it", async () => {
    const r = await client.responses.create({ model: "auto", input: fresh("Say hello.") });
    const got = await client.responses.retrieve(r.id);
    expect(got.id).toBe(r.id);
    expect(got.output_text).toBe(r.output_text);
    expect(got.usage).toEqual(r.usage);
    const items = [];
    for await (const item of client.responses.inputItems.list(r.id, { order: "asc" })) items.push(item);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ type: "message", role: "user" });
    await expect(other.responses.inputItems.list(r.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await client.responses.delete(r.id);
    await expect(client.responses.retrieve(r.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(client.responses.delete(r.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it("item_reference inputs name stored output items (as the Vercel AI SDK sends them)", async () => {
    const q = fresh("Name a large ocean.");
    const first = await client.responses.create({ model: "gpt-4o-mini", input: q });
    const item = first.output[0];
    if (item?.type !== "message") throw new Error("expected a message");
    const second = await client.responses.create({ model: "gpt-4o-mini", input: [{ role: "user", content: q }, { type: "item_reference", id: item.id }, { role: "user", content: "And a small sea?" }] });
    const inline = await client.responses.create({ model: "gpt-4o-mini", input: [{ role: "user", content: q }, { role: "assistant", content: first.output_text }, { role: "user", content: "And a small sea?" }] }, { headers: { "x-llmgw-cache": "off" } });
    // The reference was replaced by the item it names: the provider saw the same conversation.
    expect(second.usage?.input_tokens).toBe(inline.usage?.input_tokens);
  });

  it("an answer cut at the token limit is incomplete (max_output_tokens), plain and streamed", async () => {
    const r = await client.responses.create({ model: "gpt-4o-mini", input: fresh("Tell me a long story [sim:truncate]") });
    expect(r.status).toBe("incomplete");
    expect(r.incomplete_details).toEqual({ reason: "max_output_tokens" });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const e of await client.responses.create({ model: "gpt-4o-mini", input: fresh("Tell me another long story [sim:truncate]"), stream: true })) events.push(e);
    const last = events.at(-1);
    expect(last?.type).toBe("response.incomplete");
    expect(last?.type === "response.incomplete" && last.response.incomplete_details).toEqual({ reason: "max_output_tokens" });
  });

  it("store: false is answered but not kept", async () => {
    const r = await client.responses.create({ model: "auto", input: fresh("Say hi."), store: false });
    expect(r.status).toBe("completed");
    await expect(client.responses.retrieve(r.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it("a routed continuation stays on the model that served the previous turn", async () => {
    const first = await client.responses.create({ model: "auto", input: fresh("Hi there!") });
    // Asked alone, a hard question is routed to a stronger (dearer) model...
    const alone = await client.responses.create({ model: "auto", input: fresh(HARD) });
    expect(alone.model).not.toBe(first.model);
    // ...but as the next turn of the conversation it stays where the prompt cache is warm.
    const { data: second, response } = await client.responses.create({ model: "auto", previous_response_id: first.id, input: fresh(HARD) }).withResponse();
    expect(second.model).toBe(first.model);
    expect(response.headers.get("x-llmgw-route-reasons")).toContain(`model ${first.model} requested`);
    const third = await client.responses.create({ model: "auto", previous_response_id: second.id, input: "And in one line?" });
    expect(third.model).toBe(first.model);
    // The whole conversation went each time: the third prompt holds the first two turns.
    expect(third.usage?.input_tokens).toBeGreaterThan((second.usage?.input_tokens ?? 0) + (second.usage?.output_tokens ?? 0) - 1);
    // A model the client names is honoured even mid-conversation.
    const named = await client.responses.create({ model: "gpt-4o", previous_response_id: third.id, input: "Summarise in five words." });
    expect(named.model).toBe("gpt-4o");
  });

  it("another tenant cannot see, continue or delete a response", async () => {
    const r = await client.responses.create({ model: "auto", input: fresh("A private question.") });
    await expect(other.responses.retrieve(r.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(other.responses.delete(r.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const e = await other.responses.create({ model: "auto", previous_response_id: r.id, input: "Continue." }).then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
    expect((e as InstanceType<typeof OpenAI.BadRequestError>).code).toBe("previous_response_not_found");
    expect((e as InstanceType<typeof OpenAI.BadRequestError>).param).toBe("previous_response_id");
    // Still there for its owner.
    expect((await client.responses.retrieve(r.id)).id).toBe(r.id);
  });

  it.each([
    ["no input", { model: "auto" }, "input"],
    ["no model", { input: "hi" }, "model"],
    ["input of the wrong type", { model: "auto", input: 42 }, "input"],
    ["a bad role", { model: "auto", input: [{ role: "robot", content: "hi" }] }, "input[0].role"],
    ["an unknown content part", { model: "auto", input: [{ role: "user", content: [{ type: "input_audio", data: "x" }] }] }, "input[0].content[0].type"],
    ["a function_call_output without call_id", { model: "auto", input: [{ type: "function_call_output", output: "x" }] }, "input[0].call_id"],
    ["a hosted tool", { model: "auto", input: "hi", tools: [{ type: "web_search" }] }, "tools[0].type"],
    ["a bad text.format", { model: "auto", input: "hi", text: { format: { type: "xml" } } }, "text.format.type"],
    ["json_schema without a schema", { model: "auto", input: "hi", text: { format: { type: "json_schema", name: "x" } } }, "text.format.schema"],
    ["temperature out of range", { model: "auto", input: "hi", temperature: 3 }, "temperature"],
    ["max_output_tokens of zero", { model: "auto", input: "hi", max_output_tokens: 0 }, "max_output_tokens"],
    ["a malformed previous_response_id", { model: "auto", input: "hi", previous_response_id: "chatcmpl-1" }, "previous_response_id"],
    ["an unknown previous_response_id", { model: "auto", input: "hi", previous_response_id: "resp_00000000000000000000000000000000" }, "previous_response_id"],
    ["an unknown item_reference", { model: "auto", input: [{ type: "item_reference", id: "msg_00000000000000000000000000000000_0" }] }, "input[0].id"],
  ] as const)("bad input (%s) is a 400 naming '%s'", async (_name, body, param) => {
    const e = await client.responses.create(body as unknown as OpenAI.Responses.ResponseCreateParamsNonStreaming).then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
    expect((e as InstanceType<typeof OpenAI.BadRequestError>).param).toBe(param);
  });

  it("an unknown model is a 404, an unknown response id a 404, a bad key a 401", async () => {
    await expect(client.responses.create({ model: "no-such-model", input: "hi" })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(client.responses.retrieve("resp_nothere")).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const bad = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "llmgw-not-a-key-0123456789", maxRetries: 0 });
    await expect(bad.responses.create({ model: "auto", input: "hi" })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  describe("the Vercel AI SDK's default provider", () => {
    /** The bodies the SDK posted, to see what it sends back for earlier steps. */
    const sent: string[] = [];
    const gateway = () =>
      createOpenAI({
        baseURL: `${gw.url}/v1`,
        apiKey: clientKey,
        fetch: async (url, init) => {
          if (typeof init?.body === "string") sent.push(init.body);
          return fetch(url, init);
        },
      });

    it("generateText", async () => {
      const r = await generateText({ model: gateway()("auto"), prompt: fresh("What is the capital of Spain?"), maxRetries: 0 });
      expect(r.text.length).toBeGreaterThan(0);
      expect(r.usage.inputTokens).toBeGreaterThan(0);
      expect(r.response.id).toMatch(/^resp_/);
    });

    it("streamText", async () => {
      const r = streamText({ model: gateway()("gpt-4o-mini"), prompt: fresh("Describe the sea in two sentences."), maxRetries: 0 });
      let text = "";
      for await (const t of r.textStream) text += t;
      expect(text.length).toBeGreaterThan(0);
      expect(await r.text).toBe(text);
      expect((await r.usage).outputTokens).toBeGreaterThan(0);
    });

    it("a tool loop: the model calls the tool, gets its result, answers", async () => {
      const calls: string[] = [];
      const r = await generateText({
        model: gateway()("gpt-4o-mini"),
        prompt: fresh("What's the weather in Lisbon today?"),
        maxRetries: 0,
        tools: {
          get_weather: tool({
            description: "Get the current weather forecast for a city",
            inputSchema: jsonSchema<{ city: string }>({ type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false }),
            execute: async ({ city }) => {
              calls.push(city);
              return { city, forecast: "sunny, 24°C" };
            },
          }),
        },
        stopWhen: stepCountIs(3),
      });
      expect(calls).toHaveLength(1);
      expect(r.steps.length).toBe(2);
      expect(r.text.length).toBeGreaterThan(0);
      // The second step sends the whole history back: the question, the function call and its output.
      const second = JSON.parse(sent.at(-1) ?? "{}") as { input?: Array<{ type?: string; role?: string }> };
      expect(second.input?.map((i) => i.type ?? i.role)).toEqual(["user", "function_call", "function_call_output"]);
    });
  });

  it("the ledger has every billed call at the cost of the usage the client saw", async () => {
    expect(billed.length).toBe(4);
    const expected = billed.reduce((s, b) => s + b.pico, 0n);
    type Spend = { total: { requests: number; cost_usd: number } };
    const spend = await vi.waitFor(
      async () => {
        const res = await fetch(`${gw.url}/v1/llmgw/spend?since=1h`, { headers: { authorization: `Bearer ${billedKey}` } });
        const s = (await res.json()) as Spend;
        if (s.total.requests < billed.length) throw new Error(`ledger has ${s.total.requests} of ${billed.length} requests`);
        return s;
      },
      { timeout: 20_000, interval: 200 },
    );
    expect(spend.total.requests).toBe(billed.length);
    expect(spend.total.cost_usd).toBeCloseTo(Number(picoToUsd(expected)), 9);
  });
});
