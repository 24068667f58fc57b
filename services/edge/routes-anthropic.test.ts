// The Anthropic routes over HTTP with the pipeline's answers scripted: what the wire carries for the
// outcomes that real providers make hard to provoke on demand (a failure mid-stream, an overloaded
// or rate-limited gateway, a stream without a cost header). The full path through the real pipeline
// is test/e2e/anthropic-messages.test.ts.
import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "#libs/config/load.ts";
import { withStopSequence } from "#libs/openai/stop-sequence.ts";
import { errors, isGatewayError } from "#libs/errors/openai-error.ts";
import { CacheControl } from "#libs/gen/llmgw/cache/v1/cache_pb.ts";
import { silentLogger } from "#libs/log/logger.ts";
import type { ChatCall, ChatResult } from "./chat-pipeline.ts";
import { loadPriceTable } from "#libs/pricing/index.ts";
import { tablePricing } from "./pricing.ts";
import { rateLimitError } from "./rate-limit-headers.ts";
import { registerAnthropicRoutes } from "./routes-anthropic.ts";

const config = loadConfig({ env: {} });
const chunk = (delta: object, finish: string | null = null, stopReason?: string) =>
  JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 1, model: "claude-sonnet-4-5", choices: [{ index: 0, delta, finish_reason: finish, ...(stopReason ? { stop_reason: stopReason } : {}) }] });
const info = { request_id: "r", model: "claude-sonnet-4-5", tier: "HIGH", cache: "miss", cost_usd: "0.0045", baseline_usd: "0.0045", savings_usd: "0", unpriced: false, route_reasons: [] };
// The pipeline's last chunk: usage, and the gateway's figures in its `llmgw` field.
const usageChunk = JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 1, model: "claude-sonnet-4-5", choices: [], usage: { prompt_tokens: 1000, completion_tokens: 100, total_tokens: 1100 }, llmgw: info });

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function serve(handle: (call: ChatCall) => Promise<ChatResult>): Promise<{ calls: ChatCall[]; post: (path: string, body: unknown, headers?: Record<string, string>) => Promise<Response> }> {
  const calls: ChatCall[] = [];
  app = Fastify();
  app.decorateRequest("llmgwStart", 0);
  registerAnthropicRoutes(app, {
    deps: { config, logger: silentLogger(), pricing: tablePricing(loadPriceTable()) },
    pipeline: {
      handle: (call) => {
        calls.push(call);
        return handle(call);
      },
    },
    authenticate: async (req) => {
      if (req.headers["x-api-key"] !== "good") throw errors.unauthorized();
      return { keyId: "k", tenantId: "t", admin: false };
    },
    toError: (e) => (isGatewayError(e) ? e : errors.internal()),
  });
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${url}${path}`, { method: "POST", headers: { "content-type": "application/json", "x-api-key": "good", "anthropic-version": "2023-06-01", ...headers }, body: JSON.stringify(body) });
  return { calls, post };
}

const body = { model: "claude-sonnet-4-5", max_tokens: 50, messages: [{ role: "user", content: "hi" }] };

function events(text: string): Array<{ event: string; data: { type: string; [k: string]: unknown } }> {
  return text
    .split("\n\n")
    .filter((f) => f.length > 0)
    .map((f) => {
      const [e, d] = f.split("\n");
      return { event: (e ?? "").slice("event: ".length), data: JSON.parse((d ?? "").slice("data: ".length)) as { type: string } };
    });
}

describe("Anthropic routes", () => {
  it("a failure after the first token ends the stream with an error event and no message_stop", async () => {
    const { post } = await serve(async () => ({
      type: "stream",
      headers: { "x-llmgw-model": "claude-sonnet-4-5" },
      promptTokens: () => 12,
      chunks: (async function* () {
        yield chunk({ role: "assistant", content: "" });
        yield chunk({ content: "Part" });
        yield JSON.stringify({ error: { message: "The provider stopped answering.", type: "timeout_error", param: null, code: "timeout" } });
      })(),
    }));
    const res = await post("/v1/messages", { ...body, stream: true });
    expect(res.status).toBe(200);
    const evs = events(await res.text());
    expect(evs.map((e) => e.event)).toEqual(["message_start", "content_block_start", "ping", "content_block_delta", "error"]);
    expect(evs.at(-1)?.data).toEqual({ type: "error", error: { type: "timeout_error", message: "The provider stopped answering." } });
  });

  it("moves the pipeline's figures from its last chunk to message_delta, with the provider's usage", async () => {
    const { post, calls } = await serve(async () => ({
      type: "stream",
      headers: { "x-llmgw-model": "claude-sonnet-4-5", "x-llmgw-tier": "HIGH", "x-llmgw-cache": "miss" },
      promptTokens: () => 987,
      chunks: (async function* () {
        yield chunk({ content: "Hello" });
        yield chunk({}, "stop");
        yield usageChunk;
      })(),
    }));
    const res = await post("/v1/messages", { ...body, stream: true, metadata: { user_id: "sess-1" } }, { "x-llmgw-cache": "off" });
    const evs = events(await res.text());
    // The input is reported up front, as Anthropic does: the gateway's estimate, then the provider's count.
    expect(evs[0]?.data).toMatchObject({ type: "message_start", message: { usage: { input_tokens: 987, output_tokens: 0 } } });
    const delta = evs.find((e) => e.event === "message_delta");
    expect(delta?.data).toMatchObject({ delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { input_tokens: 1000, output_tokens: 100 }, llmgw: info });
    // What the pipeline was handed: the translated body, the session and the cache directive.
    expect(calls[0]?.body).toMatchObject({ model: "claude-sonnet-4-5", stream: true, stream_options: { include_usage: true }, user: "sess-1" });
    expect(calls[0]?.sessionId).toBe("sess-1");
    expect(calls[0]?.cacheControl).toBe(CacheControl.OFF);
  });

  it.each([
    ["an unavailable gateway", errors.unavailable("busy", 3), 529, "overloaded_error", "3"],
    ["a budget refusal", errors.quotaExceeded("Budget exhausted."), 429, "rate_limit_error", null],
    ["a rate limit", errors.rateLimited("slow down", 2), 429, "rate_limit_error", "2"],
    ["a too large request", errors.tooLarge(100), 413, "request_too_large", null],
    ["an internal failure", new Error("boom"), 500, "api_error", null],
  ])("%s: Anthropic's status and error type", async (_name, thrown, status, type, retryAfter) => {
    const { post } = await serve(async () => {
      throw thrown;
    });
    const res = await post("/v1/messages", body);
    expect(res.status).toBe(status);
    expect(res.headers.get("retry-after")).toBe(retryAfter);
    expect(res.headers.get("request-id")).toBeTruthy();
    const got = (await res.json()) as { type: string; error: { type: string; message: string } };
    expect(got.type).toBe("error");
    expect(got.error.type).toBe(type);
  });

  it("a rate-limit refusal carries the same headers as on the OpenAI routes", async () => {
    const { post } = await serve(async () => {
      throw rateLimitError("Too many requests.", { limitRequests: 10n, remainingRequests: 0n, resetRequestsMs: 1500n, retryAfterMs: 1500n } as Parameters<typeof rateLimitError>[1]);
    });
    const res = await post("/v1/messages", body);
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("2");
    expect(res.headers.get("retry-after-ms")).toBe("1500");
    expect(res.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    expect(res.headers.get("x-ratelimit-limit-requests")).toBe("10");
  });

  it("reports the stop sequence the provider matched, in JSON and in the stream", async () => {
    const matched = withStopSequence({ index: 0, finish_reason: "stop" as const, logprobs: null, message: { role: "assistant" as const, content: "Hi", refusal: null } }, "END");
    const json = await serve(async () => ({ type: "json", headers: {}, body: { id: "c", object: "chat.completion", created: 1, model: "claude-sonnet-4-5", choices: [matched] } }));
    expect(await (await json.post("/v1/messages", { ...body, stop_sequences: ["END"] })).json()).toMatchObject({ stop_reason: "stop_sequence", stop_sequence: "END" });
    await app?.close();
    const streamed = await serve(async () => ({
      type: "stream",
      headers: {},
      promptTokens: () => 3,
      chunks: (async function* () {
        yield chunk({ content: "Hi" });
        yield chunk({}, "stop", "END");
      })(),
    }));
    const delta = events(await (await streamed.post("/v1/messages", { ...body, stream: true, stop_sequences: ["END"] })).text()).find((e) => e.event === "message_delta");
    expect(delta?.data).toMatchObject({ delta: { stop_reason: "stop_sequence", stop_sequence: "END" } });
  });

  it("answers JSON with the pipeline's headers and Anthropic's request-id", async () => {
    const { post } = await serve(async () => ({
      type: "json",
      headers: { "x-llmgw-model": "claude-sonnet-4-5", "x-llmgw-cost-usd": "0.01" },
      body: { id: "c", object: "chat.completion", created: 1, model: "claude-sonnet-4-5", choices: [{ index: 0, finish_reason: "stop", logprobs: null, message: { role: "assistant", content: "Hi!", refusal: null } }] },
    }));
    const res = await post("/v1/messages", body);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-llmgw-cost-usd")).toBe("0.01");
    expect(res.headers.get("request-id")).toMatch(/./);
    expect(await res.json()).toMatchObject({ type: "message", content: [{ type: "text", text: "Hi!" }], stop_reason: "end_turn" });
  });

  it("count_tokens needs a key and a known model", async () => {
    const { post } = await serve(async () => {
      throw new Error("not called");
    });
    expect((await post("/v1/messages/count_tokens", { model: "auto", messages: body.messages }, { "x-api-key": "bad" })).status).toBe(401);
    const unknown = await post("/v1/messages/count_tokens", { model: "claude-nope", messages: body.messages });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ type: "error", error: { type: "not_found_error" } });
    expect(await (await post("/v1/messages/count_tokens", { model: "claude-sonnet-4-5-20250929", messages: body.messages })).json()).toEqual({ input_tokens: expect.any(Number) as number });
  });
});
