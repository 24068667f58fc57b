// Chat completions through the official openai SDK against both run modes: answers and their
// x-llmgw-* headers, streams with and without usage, the model list, concrete models, tools,
// the exact cache, and admin key management end to end.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { MODES, startGateway, type Gateway } from "./harness.ts";

const HEADERS = ["x-llmgw-request-id", "x-llmgw-model", "x-llmgw-tier", "x-llmgw-cache", "x-llmgw-cost-usd", "x-llmgw-overhead-ms"] as const;
const TIERS = ["LOW", "MEDIUM", "HIGH", "AGENTIC"];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A prompt no earlier test sent, so the cache cannot answer it. */
// Letters only: eight random hex digits can be all digits, which the cache's privacy detectors may take
// for a phone number or an id (the request then bypasses the cache).
const fresh = (text: string) => `${text} (run ${randomUUID().replace(/[^a-f]/g, "").padEnd(8, "x").slice(0, 8)})`;

describe.each(MODES)("chat through the SDK (%s)", (mode) => {
  let gw: Gateway;
  let client: OpenAI;
  let tenant: OpenAI;

  beforeAll(async () => {
    gw = await startGateway(mode);
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.adminKey, maxRetries: 0, timeout: 20_000 });
    tenant = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: await gw.createKey("acme"), maxRetries: 0, timeout: 20_000 });
  }, 60_000);

  afterAll(async () => {
    await gw?.stop();
  });

  it("non-streaming answer carries every x-llmgw-* header", async () => {
    const { data, response } = await tenant.chat.completions.create({ model: "auto", messages: [{ role: "user", content: fresh("What is the capital of France?") }] }).withResponse();
    expect(data.object).toBe("chat.completion");
    expect(data.choices[0]?.message.content).toBeTruthy();
    expect(data.choices[0]?.finish_reason).toBe("stop");
    expect(data.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(data.usage?.completion_tokens).toBeGreaterThan(0);
    for (const h of HEADERS) expect(response.headers.get(h), h).toBeTruthy();
    expect(response.headers.get("x-llmgw-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers.get("x-llmgw-model")).toBe(data.model);
    expect(TIERS).toContain(response.headers.get("x-llmgw-tier"));
    expect(response.headers.get("x-llmgw-cache")).toBe("miss");
    expect(Number(response.headers.get("x-llmgw-cost-usd"))).toBeGreaterThan(0);
    expect(Number(response.headers.get("x-llmgw-overhead-ms"))).toBeGreaterThanOrEqual(0);
  });

  it("the same question again is answered from the exact cache at zero cost", async () => {
    const q = fresh("Name one primary colour.");
    const first = await tenant.chat.completions.create({ model: "auto", messages: [{ role: "user", content: q }] }).withResponse();
    expect(first.response.headers.get("x-llmgw-cache")).toBe("miss");
    // The cache write happens after the answer is sent: poll (bounded) until it is visible.
    let cache = "";
    let second: OpenAI.Chat.ChatCompletion.Choice | undefined;
    let headers: Headers | undefined;
    for (let i = 0; i < 40 && !cache.startsWith("hit"); i++) {
      if (i > 0) await sleep(50);
      const r = await tenant.chat.completions.create({ model: "auto", messages: [{ role: "user", content: q }] }).withResponse();
      cache = r.response.headers.get("x-llmgw-cache") ?? "";
      second = r.data.choices[0];
      headers = r.response.headers;
    }
    expect(cache).toBe("hit-exact");
    expect(headers?.get("x-llmgw-cost-usd")).toBe("0");
    expect(second?.message.content).toBe(first.data.choices[0]?.message.content);
  });

  it("streams end with a usage chunk when stream_options.include_usage is set", async () => {
    const { data: stream, response } = await tenant.chat.completions
      .create({ model: "auto", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: fresh("Tell me a short fact about the sea.") }] })
      .withResponse();
    expect(response.headers.get("content-type")).toMatch(/text\/event-stream/);
    for (const h of HEADERS.filter((x) => x !== "x-llmgw-cost-usd")) expect(response.headers.get(h), h).toBeTruthy();
    const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks.length).toBeGreaterThan(2);
    const text = chunks.flatMap((c) => c.choices.map((ch) => ch.delta.content ?? "")).join("");
    expect(text.length).toBeGreaterThan(0);
    expect(chunks.some((c) => c.choices.some((ch) => ch.finish_reason === "stop"))).toBe(true);
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(last?.usage?.completion_tokens).toBeGreaterThan(0);
    expect(last?.usage?.total_tokens).toBe((last?.usage?.prompt_tokens ?? 0) + (last?.usage?.completion_tokens ?? 0));
    // Only the last chunk carries usage.
    expect(chunks.slice(0, -1).every((c) => !c.usage)).toBe(true);
    expect(new Set(chunks.map((c) => c.model)).size).toBe(1);
    expect(chunks[0]?.model).toBe(response.headers.get("x-llmgw-model"));
  });

  it("on the wire, a stream is SSE data events closed by data: [DONE]", async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${gw.adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "auto", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: fresh("Wire check") }] }),
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
    const events = text.split("\n\n").filter((e) => e.length > 0);
    expect(events.every((e) => e.startsWith("data: "))).toBe(true);
    expect(events.filter((e) => e === "data: [DONE]")).toHaveLength(1);
    for (const e of events.slice(0, -1)) expect((JSON.parse(e.slice(6)) as { object: string }).object).toBe("chat.completion.chunk");
  });

  it("streams without include_usage have no usage chunk", async () => {
    const stream = await tenant.chat.completions.create({ model: "auto", stream: true, messages: [{ role: "user", content: fresh("Say something about mountains.") }] });
    const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.every((c) => !c.usage)).toBe(true);
    expect(chunks.every((c) => c.choices.length > 0)).toBe(true);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe("stop");
  });

  it("a cached answer replayed as a stream still honours include_usage", async () => {
    const q = fresh("What colour is the sky?");
    await tenant.chat.completions.create({ model: "auto", messages: [{ role: "user", content: q }] });
    let cache = "";
    let chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
    for (let i = 0; i < 40 && !cache.startsWith("hit"); i++) {
      if (i > 0) await sleep(50);
      const { data, response } = await tenant.chat.completions.create({ model: "auto", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: q }] }).withResponse();
      cache = response.headers.get("x-llmgw-cache") ?? "";
      chunks = [];
      for await (const c of data) chunks.push(c);
    }
    expect(cache).toBe("hit-exact");
    expect(chunks.at(-1)?.usage?.completion_tokens).toBeGreaterThan(0);
    expect(chunks.at(-1)?.choices).toEqual([]);
  });

  it("/v1/models lists the aliases and every configured model", async () => {
    const ids: string[] = [];
    for await (const m of tenant.models.list()) ids.push(m.id);
    for (const id of ["auto", "llmgw-auto", "small-8k", "gpt-4o-mini", "gpt-4o", "claude-3-5-haiku-latest", "claude-sonnet-4-5"]) expect(ids).toContain(id);
    const one = await tenant.models.retrieve("gpt-4o");
    expect(one.id).toBe("gpt-4o");
    expect(one.object).toBe("model");
  });

  it.each(["gpt-4o", "claude-3-5-haiku-latest", "small-8k"])("a concrete model (%s) is honoured", async (model) => {
    const { data, response } = await tenant.chat.completions.create({ model, messages: [{ role: "user", content: fresh("Hello there") }] }).withResponse();
    expect(response.headers.get("x-llmgw-model")).toBe(model);
    expect(data.model).toBe(model);
    expect(data.choices[0]?.message.content).toBeTruthy();
  });

  it("a concrete model is honoured on a stream too", async () => {
    const { data, response } = await tenant.chat.completions.create({ model: "claude-sonnet-4-5", stream: true, messages: [{ role: "user", content: fresh("Hi") }] }).withResponse();
    expect(response.headers.get("x-llmgw-model")).toBe("claude-sonnet-4-5");
    const models = new Set<string>();
    for await (const c of data) models.add(c.model);
    expect([...models]).toEqual(["claude-sonnet-4-5"]);
  });

  it("a tool-calling request reaches a tools-capable model and gets a tool call back", async () => {
    const tools: OpenAI.Chat.ChatCompletionTool[] = [
      {
        type: "function",
        function: {
          name: "get_weather",
          description: "Get the current weather forecast for a city",
          parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
        },
      },
    ];
    const question = fresh("What is the weather forecast in Paris?");
    const { data, response } = await tenant.chat.completions.create({ model: "auto", tools, tool_choice: "required", messages: [{ role: "user", content: question }] }).withResponse();
    const served = response.headers.get("x-llmgw-model") ?? "";
    const all: (OpenAI.Models.Model & { capabilities?: string[] })[] = [];
    for await (const m of tenant.models.list()) all.push(m);
    expect(all.find((m) => m.id === served)?.capabilities).toContain("tools");
    const choice = data.choices[0];
    expect(choice?.finish_reason).toBe("tool_calls");
    const call = choice?.message.tool_calls?.[0];
    expect(call?.type).toBe("function");
    if (call?.type !== "function") throw new Error("expected a function call");
    expect(call.function.name).toBe("get_weather");
    expect(() => JSON.parse(call.function.arguments) as unknown).not.toThrow();

    // The tool result goes back and the model answers in text.
    const followUp = await tenant.chat.completions.create({
      model: "auto",
      tools,
      messages: [
        { role: "user", content: question },
        { role: "assistant", content: null, tool_calls: [call] },
        { role: "tool", tool_call_id: call.id, content: '{"forecast":"sunny, 21 C"}' },
      ],
    });
    expect(followUp.choices[0]?.message.content).toBeTruthy();
  });

  it("admin key management: create, use, list, revoke", async () => {
    const created = (await client.post("/llmgw/keys", { body: { tenant_id: "beta", name: "e2e" } })) as { id: string; key: string; tenant_id: string };
    expect(created.tenant_id).toBe("beta");
    expect(created.key.length).toBeGreaterThan(20);

    const beta = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: created.key, maxRetries: 0, timeout: 20_000 });
    const r = await beta.chat.completions.create({ model: "auto", messages: [{ role: "user", content: fresh("Hello from beta") }] });
    expect(r.choices[0]?.message.content).toBeTruthy();

    const list = (await client.get("/llmgw/keys", { query: { tenant_id: "beta" } })) as { data: { id: string; tenant_id: string; revoked: boolean; prefix: string }[] };
    const row = list.data.find((k) => k.id === created.id);
    expect(row?.tenant_id).toBe("beta");
    expect(row?.revoked).toBe(false);
    expect(created.key.startsWith(row?.prefix ?? "\u0000")).toBe(true);
    // The raw key is never listed.
    expect(JSON.stringify(list)).not.toContain(created.key);

    const revoked = (await client.delete(`/llmgw/keys/${created.id}`)) as { id: string; revoked: boolean };
    expect(revoked).toEqual({ id: created.id, revoked: true });
    const listed = (await client.get("/llmgw/keys", { query: { tenant_id: "beta" } })) as { data: { id: string; revoked: boolean }[] };
    expect(listed.data.find((k) => k.id === created.id)?.revoked).toBe(true);

    // The edge caches verified keys for 30 s; forgetting the cache stands in for that TTL passing.
    gw.edge.auth.forget();
    await expect(beta.chat.completions.create({ model: "auto", messages: [{ role: "user", content: "still there?" }] })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    await expect(client.delete(`/llmgw/keys/${created.id}`)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it("a tenant key sees its own spend once the ledger has the request", async () => {
    const key = await gw.createKey("gamma");
    const gamma = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0, timeout: 20_000 });
    const { response } = await gamma.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: fresh("Count me") }] }).withResponse();
    const cost = Number(response.headers.get("x-llmgw-cost-usd"));
    type Spend = { tenant_id: string | null; total: { requests: number; cost_usd: number } };
    let spend: Spend | undefined;
    for (let i = 0; i < 100 && (spend?.total.requests ?? 0) < 1; i++) {
      if (i > 0) await sleep(100);
      spend = (await gamma.get("/llmgw/spend", { query: { since: "1h" } })) as Spend;
    }
    expect(spend?.tenant_id).toBe("gamma");
    expect(spend?.total.requests).toBe(1);
    expect(spend?.total.cost_usd).toBeCloseTo(cost, 9);
  });
});
