// The OpenAI adapter through the real `openai` SDK against the bundled simulator.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "#libs/simulator/server.ts";
import { GatewayError } from "#libs/errors/openai-error.ts";
import { createOpenAIAdapter } from "./openai.ts";
import type { CallOptions, ChatChunk, ProviderAdapter } from "./types.ts";

let sim: Simulator;
let adapter: ProviderAdapter;
const opts = (over: Partial<CallOptions> = {}): CallOptions => ({
  upstreamModel: "gpt-4o-mini",
  reportedModel: "my-mini",
  defaultMaxTokens: 256,
  signal: new AbortController().signal,
  ...over,
});

beforeAll(async () => {
  sim = await startSimulator({ latencyMs: 0 });
  adapter = createOpenAIAdapter({ providerId: "openai", baseURL: `${sim.url}/v1`, apiKey: "k", timeoutMs: 5_000 });
});
afterAll(async () => {
  await sim.close();
});

describe("openai adapter", () => {
  it("completes non-streaming with usage, reporting the gateway model id", async () => {
    const { completion, usage } = await adapter.complete({ model: "ignored", messages: [{ role: "user", content: "Say hello [sim:len=12]" }] }, opts());
    expect(completion.model).toBe("my-mini");
    expect(completion.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(usage).not.toBeNull();
    expect(usage?.outputTokens).toBe(completion.usage?.completion_tokens);
    expect(usage?.inputTokens).toBe((completion.usage?.prompt_tokens ?? 0) - (completion.usage?.prompt_tokens_details?.cached_tokens ?? 0));
    expect(usage?.estimated).toBe(false);
  });

  it("streams with usage even when the client did not ask for it", async () => {
    const s = await adapter.openStream({ model: "x", messages: [{ role: "user", content: "Tell me something [sim:len=20]" }], stream: true }, opts());
    const chunks: ChatChunk[] = [];
    for await (const c of s.chunks) chunks.push(c);
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
    expect(text.length).toBeGreaterThan(0);
    expect(chunks.some((c) => c.choices[0]?.finish_reason === "stop")).toBe(true);
    const last = chunks[chunks.length - 1];
    expect(last?.choices).toEqual([]);
    expect(last?.usage?.completion_tokens).toBe(20);
    expect(s.usage()).toMatchObject({ complete: true, usage: { outputTokens: 20, estimated: false } });
    expect(chunks.every((c) => c.model === "my-mini")).toBe(true);
  });

  it("reports reasoning tokens for reasoning models", async () => {
    const { usage } = await adapter.complete({ model: "x", messages: [{ role: "user", content: "Think [sim:len=5]" }] }, opts({ upstreamModel: "o3-mini" }));
    expect(usage?.reasoningTokens).toBeGreaterThan(0);
    expect(usage?.outputTokens).toBeGreaterThanOrEqual((usage?.reasoningTokens ?? 0) + 5);
  });

  it.each([
    [429, 429, "rate_limit_exceeded", 2],
    [500, 502, "upstream_error", undefined],
    [503, 503, "upstream_overloaded", undefined],
    [400, 400, null, undefined],
  ] as const)("maps simulated HTTP %d to GatewayError %d", async (simStatus, status, code, retryAfterSec) => {
    sim.addFault({ model: "gpt-4o-mini", status: simStatus, count: 1, ...(retryAfterSec ? { retryAfterSec } : {}) });
    const err = await adapter.complete({ model: "x", messages: [{ role: "user", content: "hi" }] }, opts()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    const g = err as GatewayError;
    expect(g.status).toBe(status);
    if (code !== null) expect(g.code).toBe(code);
    expect(g.retryAfterSec).toBe(retryAfterSec);
  });

  it("maps an unknown upstream model to 502 upstream_model_not_found and a too-long prompt to 400", async () => {
    const nf = await adapter.complete({ model: "x", messages: [{ role: "user", content: "hi" }] }, opts({ upstreamModel: "nope-model" })).catch((e: unknown) => e);
    expect(nf).toMatchObject({ status: 502, code: "upstream_model_not_found" });
    const big = "word ".repeat(9000);
    const cl = await adapter.complete({ model: "x", messages: [{ role: "user", content: big }] }, opts({ upstreamModel: "small-8k" })).catch((e: unknown) => e);
    expect(cl).toMatchObject({ status: 400, code: "context_length_exceeded" });
  });

  it("maps a refused connection to 502 upstream_connection_error", async () => {
    const dead = createOpenAIAdapter({ providerId: "local", baseURL: "http://127.0.0.1:1/v1", apiKey: "k", timeoutMs: 2_000 });
    const err = await dead.complete({ model: "x", messages: [{ role: "user", content: "hi" }] }, opts()).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 502, code: "upstream_connection_error" });
  });
});
