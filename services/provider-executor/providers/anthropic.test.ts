// The Anthropic adapter through the real @anthropic-ai/sdk against the simulator: OpenAI in, OpenAI out.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "#libs/simulator/server.ts";
import { createAnthropicAdapter } from "./anthropic.ts";
import type { CallOptions, ChatChunk, ChatRequest, ProviderAdapter } from "./types.ts";

let sim: Simulator;
let adapter: ProviderAdapter;
const opts = (): CallOptions => ({ upstreamModel: "claude-3-5-haiku-latest", reportedModel: "haiku", defaultMaxTokens: 512, signal: new AbortController().signal });

const weatherTool: NonNullable<ChatRequest["tools"]>[number] = {
  type: "function",
  function: { name: "get_weather", description: "Current weather for a city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
};

async function collect(body: ChatRequest): Promise<{ chunks: ChatChunk[]; usage: ReturnType<Awaited<ReturnType<ProviderAdapter["openStream"]>>["usage"]> }> {
  const s = await adapter.openStream(body, opts());
  const chunks: ChatChunk[] = [];
  for await (const c of s.chunks) chunks.push(c);
  return { chunks, usage: s.usage() };
}

beforeAll(async () => {
  sim = await startSimulator({ latencyMs: 0 });
  adapter = createAnthropicAdapter({ providerId: "anthropic", baseURL: sim.url, apiKey: "k", timeoutMs: 5_000, nowSec: () => 1_700_000_000 });
});
afterAll(async () => {
  await sim.close();
});

describe("anthropic adapter", () => {
  it("answers a non-streaming OpenAI request as a chat.completion", async () => {
    const { completion, usage } = await adapter.complete(
      { model: "x", messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Hello there [sim:len=15]" }], max_tokens: 100 },
      opts(),
    );
    expect(completion).toMatchObject({ object: "chat.completion", model: "haiku", created: 1_700_000_000 });
    expect(completion.id).toMatch(/^msg_/);
    expect(completion.choices[0]?.finish_reason).toBe("stop");
    expect(completion.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(usage).toMatchObject({ outputTokens: 15, estimated: false });
    expect(usage?.inputTokens).toBeGreaterThan(0);
    expect(completion.usage?.completion_tokens).toBe(15);
  });

  it("maps max_tokens exhaustion to finish_reason length", async () => {
    const { completion } = await adapter.complete({ model: "x", messages: [{ role: "user", content: "Write a lot [sim:len=50]" }], max_tokens: 5 }, opts());
    expect(completion.choices[0]?.finish_reason).toBe("length");
    expect(completion.usage?.completion_tokens).toBe(5);
  });

  it("streams Anthropic events as OpenAI chunks: role, content, finish, usage", async () => {
    const { chunks, usage } = await collect({ model: "x", messages: [{ role: "user", content: "Tell me a story [sim:len=10]" }], stream: true });
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: "assistant", content: "" });
    const contentChunks = chunks.filter((c) => (c.choices[0]?.delta.content ?? "").length > 0);
    expect(contentChunks.length).toBeGreaterThan(1);
    const finish = chunks.filter((c) => c.choices[0]?.finish_reason);
    expect(finish.map((c) => c.choices[0]?.finish_reason)).toEqual(["stop"]);
    const last = chunks[chunks.length - 1];
    expect(last?.choices).toEqual([]);
    expect(last?.usage?.completion_tokens).toBe(10);
    // finish comes after all content, usage after finish
    expect(chunks.indexOf(finish[0] as ChatChunk)).toBe(chunks.length - 2);
    expect(usage).toMatchObject({ complete: true, usage: { outputTokens: 10, estimated: false } });
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
  });

  it("streams tool calls as indexed tool_call deltas with id, name and arguments", async () => {
    const { chunks } = await collect({
      model: "x",
      messages: [{ role: "user", content: "What is the weather in Paris? [sim:tool=get_weather]" }],
      tools: [weatherTool],
      stream: true,
    });
    const deltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(deltas[0]).toMatchObject({ index: 0, type: "function", function: { name: "get_weather", arguments: "" } });
    expect(deltas[0]?.id).toMatch(/^toolu_/);
    const args = deltas.map((d) => d.function?.arguments ?? "").join("");
    expect(JSON.parse(args)).toHaveProperty("city");
    expect(deltas.slice(1).every((d) => d.index === 0 && d.id === undefined)).toBe(true);
    expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0]?.finish_reason).toBe("tool_calls");
  });

  it("round-trips a tool call: assistant tool_calls + tool message → tool_use / tool_result", async () => {
    const first = await adapter.complete(
      { model: "x", messages: [{ role: "user", content: "Weather in Rome? [sim:tool=get_weather]" }], tools: [weatherTool], tool_choice: "required" },
      opts(),
    );
    const call = first.completion.choices[0]?.message.tool_calls?.[0];
    expect(first.completion.choices[0]?.finish_reason).toBe("tool_calls");
    expect(call?.type).toBe("function");
    if (call?.type !== "function") throw new Error("expected a function tool call");
    expect(JSON.parse(call.function.arguments)).toHaveProperty("city");

    const second = await adapter.complete(
      {
        model: "x",
        messages: [
          { role: "user", content: "Weather in Rome?" },
          { role: "assistant", content: null, tool_calls: [call] },
          { role: "tool", tool_call_id: call.id, content: '{"temp_c": 21, "sky": "clear"}' },
        ],
        tools: [weatherTool],
      },
      opts(),
    );
    // The simulator accepted the tool_use/tool_result pairing and answered in prose.
    expect(second.completion.choices[0]?.finish_reason).toBe("stop");
    expect(second.completion.choices[0]?.message.content?.length).toBeGreaterThan(0);
  });

  it("reports prompt-cache writes then reads through cache_control parts", async () => {
    const longPolicy = "Policy clause: refunds are processed within thirty days of purchase. ".repeat(200);
    const body = {
      model: "x",
      messages: [
        { role: "system", content: [{ type: "text", text: longPolicy, cache_control: { type: "ephemeral" } }] },
        { role: "user", content: "Can I get a refund? [sim:len=5]" },
      ],
      stream: true,
    } as ChatRequest;
    const a = await collect(body);
    expect(a.usage?.usage.cacheWrite5mTokens).toBeGreaterThan(1000);
    expect(a.usage?.usage.cachedInputTokens).toBe(0);
    const b = await collect(body);
    const u = b.usage?.usage;
    expect(u?.cachedInputTokens).toBe(a.usage?.usage.cacheWrite5mTokens);
    expect(u?.cacheWrite5mTokens).toBe(0);
    const last = b.chunks[b.chunks.length - 1];
    expect(last?.usage?.prompt_tokens_details?.cached_tokens).toBe(u?.cachedInputTokens);
    expect(last?.usage?.prompt_tokens).toBe((u?.inputTokens ?? 0) + (u?.cachedInputTokens ?? 0));
  });

  it("maps Anthropic errors: 429 with retry-after, 503 overloaded, 404 model", async () => {
    sim.addFault({ model: "claude-3-5-haiku-latest", status: 429, count: 1, retryAfterSec: 3 });
    const rl = await adapter.complete({ model: "x", messages: [{ role: "user", content: "hi" }] }, opts()).catch((e: unknown) => e);
    expect(rl).toMatchObject({ status: 429, type: "rate_limit_error", retryAfterSec: 3 });
    sim.addFault({ model: "claude-3-5-haiku-latest", status: 503, count: 1 });
    const ov = await adapter.openStream({ model: "x", messages: [{ role: "user", content: "hi" }], stream: true }, opts()).catch((e: unknown) => e);
    expect(ov).toMatchObject({ status: 503, code: "upstream_overloaded" });
    const nf = await adapter.complete({ model: "x", messages: [{ role: "user", content: "hi" }] }, { ...opts(), upstreamModel: "claude-nope" }).catch((e: unknown) => e);
    expect(nf).toMatchObject({ status: 502, code: "upstream_model_not_found" });
  });
});
