// The error table through the official openai SDK (and raw HTTP where the SDK cannot send the
// request): each failure has its status, hence the SDK's exception class, and the one OpenAI body
// shape {"error":{"message","type","param","code"}}. Same table against embedded and mesh.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { closedPort, MODES, startGateway, testConfig, type Gateway } from "./harness.ts";

const BODY_LIMIT = 256 * 1024;

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** The one error shape: exactly these four keys, a message, a type. */
function expectErrorShape(inner: unknown): ErrorBody["error"] {
  expect(inner).toBeTypeOf("object");
  const e = inner as Record<string, unknown>;
  expect(Object.keys(e).sort()).toEqual(["code", "message", "param", "type"]);
  expect(typeof e.message === "string" && e.message.length > 0).toBe(true);
  expect(typeof e.type === "string" && e.type.length > 0).toBe(true);
  expect(e.param === null || typeof e.param === "string").toBe(true);
  expect(e.code === null || typeof e.code === "string").toBe(true);
  return e as ErrorBody["error"];
}

/** Runs `fn`, which must reject with an SDK APIError; returns it. */
async function sdkError(fn: () => Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof OpenAI.APIError) return e;
    throw e;
  }
  throw new Error("expected the request to fail");
}

async function rawJson(res: Response): Promise<ErrorBody> {
  expect(res.headers.get("content-type") ?? "").toMatch(/application\/json/);
  const body = (await res.json()) as unknown;
  expect(Object.keys(body as object)).toEqual(["error"]);
  expectErrorShape((body as ErrorBody).error);
  return body as ErrorBody;
}

describe.each(MODES)("error table (%s)", (mode) => {
  let gw: Gateway;
  let client: OpenAI;
  let tenantClient: OpenAI;
  let tenantKey: string;

  beforeAll(async () => {
    const downPort = await closedPort();
    const config = testConfig((c) => {
      c.edge.body_limit_bytes = BODY_LIMIT;
      // Fast timeouts so the hanging-provider case takes about a second.
      c.executor.attempt_timeout_ms = 400;
      c.executor.total_timeout_ms = 1_500;
      // The "local" provider points at a port nothing listens on (its key is set, so no simulator).
      const local = c.providers.local;
      if (!local) throw new Error("config has no 'local' provider");
      local.base_url = `http://127.0.0.1:${downPort}/v1`;
    });
    gw = await startGateway(mode, { config, env: { LOCAL_LLM_API_KEY: "e2e-local-key" } });
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.adminKey, maxRetries: 0, timeout: 15_000 });
    tenantKey = await gw.createKey("acme");
    tenantClient = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: tenantKey, maxRetries: 0, timeout: 15_000 });
  }, 60_000);

  afterEach(() => gw.sim.clearFaults());
  afterAll(async () => {
    await gw?.stop();
  });

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${gw.url}${path}`, { method: "POST", headers: { authorization: `Bearer ${tenantKey}`, "content-type": "application/json", ...headers }, body });

  it("malformed JSON → 400 invalid_json", async () => {
    const res = await post("/v1/chat/completions", '{"model":"auto","messages":[');
    expect(res.status).toBe(400);
    expect(res.headers.get("x-llmgw-request-id")).toBeTruthy();
    const { error } = await rawJson(res);
    expect(error.type).toBe("invalid_request_error");
    expect(error.code).toBe("invalid_json");
  });

  it("a body that is not an object → 400", async () => {
    const res = await post("/v1/chat/completions", "[1,2,3]");
    expect(res.status).toBe(400);
    expect((await rawJson(res)).error.type).toBe("invalid_request_error");
  });

  it.each([
    ["model", { messages: [{ role: "user", content: "hi" }] }],
    ["messages", { model: "auto" }],
    ["messages", { model: "auto", messages: [] }],
    ["messages[0].content", { model: "auto", messages: [{ role: "user" }] }],
    ["messages[1].role", { model: "auto", messages: [{ role: "user", content: "a" }, { role: "robot", content: "b" }] }],
    ["temperature", { model: "auto", messages: [{ role: "user", content: "hi" }], temperature: 5 }],
    ["max_tokens", { model: "auto", messages: [{ role: "user", content: "hi" }], max_tokens: -1 }],
  ])("invalid field → 400 BadRequestError naming %s", async (param, body) => {
    const e = await sdkError(() => client.chat.completions.create(body as unknown as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming));
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
    expect(e.status).toBe(400);
    const inner = expectErrorShape(e.error);
    expect(inner.param).toBe(param);
    expect(inner.type).toBe("invalid_request_error");
    expect(inner.message).toContain(param);
  });

  it("wrong content type → 415; empty JSON body → 400", async () => {
    const res = await post("/v1/chat/completions", "model=auto", { "content-type": "application/x-www-form-urlencoded" });
    expect(res.status).toBe(415);
    expect((await rawJson(res)).error.code).toBe("unsupported_media_type");
    const empty = await post("/v1/chat/completions", "");
    expect(empty.status).toBe(400);
    expect((await rawJson(empty)).error.type).toBe("invalid_request_error");
  });

  it("n > 1 is refused naming 'n'", async () => {
    const e = await sdkError(() => client.chat.completions.create({ model: "auto", n: 2, messages: [{ role: "user", content: "two answers" }] }));
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
    expect(expectErrorShape(e.error).param).toBe("n");
  });

  it("a concrete model without a needed capability → 400 unsupported_capability", async () => {
    const tools: OpenAI.Chat.ChatCompletionTool[] = [{ type: "function", function: { name: "get_weather", description: "Weather forecast for a city", parameters: { type: "object", properties: {} } } }];
    const e = await sdkError(() => client.chat.completions.create({ model: "gpt-4.1-nano", response_format: { type: "json_object" }, messages: [{ role: "user", content: "ok" }] }).then(() => client.chat.completions.create({ model: "small-8k", tools, messages: [{ role: "user", content: "Weather in Paris?" }] })));
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
    expect(expectErrorShape(e.error).code).toBe("unsupported_capability");
  });

  it("a prompt over a concrete model's context window → 400 context_length_exceeded", async () => {
    const e = await sdkError(() => client.chat.completions.create({ model: "small-8k", messages: [{ role: "user", content: "word ".repeat(12_000) }] }));
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
    const inner = expectErrorShape(e.error);
    expect(inner.code).toBe("context_length_exceeded");
    expect(inner.param).toBe("messages");
  });

  it("budget exhausted → 429 RateLimitError insufficient_quota", async () => {
    const key = await gw.createKey("poor");
    await client.put("/llmgw/budgets", { body: { tenant_id: "poor", period: "day", hard_limit_usd: "0.0000001" } });
    const poor = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
    const e = await sdkError(() => poor.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "Spend my money" }] }));
    expect(e).toBeInstanceOf(OpenAI.RateLimitError);
    const inner = expectErrorShape(e.error);
    expect(inner.code).toBe("insufficient_quota");
    expect(inner.type).toBe("insufficient_quota");
  });

  it("unknown model → 404 NotFoundError model_not_found", async () => {
    const e = await sdkError(() => client.chat.completions.create({ model: "no-such-model-9000", messages: [{ role: "user", content: "hi" }] }));
    expect(e).toBeInstanceOf(OpenAI.NotFoundError);
    expect(e.status).toBe(404);
    const inner = expectErrorShape(e.error);
    expect(inner.code).toBe("model_not_found");
    expect(inner.param).toBe("model");
  });

  it("a model named like an inherited key ('constructor', 'toString') is unknown on every route", async () => {
    for (const model of ["constructor", "toString", "__proto__"]) {
      const chat = await post("/v1/chat/completions", JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }));
      expect(chat.status, `chat ${model}`).toBe(404);
      expect(expectErrorShape(((await chat.json()) as ErrorBody).error).code).toBe("model_not_found");
      const emb = await post("/v1/embeddings", JSON.stringify({ model, input: "hi" }));
      expect(emb.status, `embeddings ${model}`).toBe(404);
      const count = await post("/v1/messages/count_tokens", JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }), { "anthropic-version": "2023-06-01" });
      expect(count.status, `count_tokens ${model}`).toBe(404);
    }
  });

  it("a max_tokens past what the model can write → 400 naming it (not a budget refusal, not a provider's 400)", async () => {
    for (const [model, max, field] of [["gpt-4o-mini", 20_000, "max_tokens"], ["auto", 1e12, "max_tokens"], ["auto", 500_000, "max_completion_tokens"]] as const) {
      const res = await post("/v1/chat/completions", JSON.stringify({ model, messages: [{ role: "user", content: "hi" }], [field]: max }));
      expect(res.status, `${model} ${max}`).toBe(400);
      const inner = expectErrorShape(((await res.json()) as ErrorBody).error);
      expect(inner.param).toBe(field);
      expect(inner.message).toContain("too large");
    }
  });

  it("unknown model on GET /v1/models/:id → 404 NotFoundError", async () => {
    const e = await sdkError(() => client.models.retrieve("no-such-model-9000"));
    expect(e).toBeInstanceOf(OpenAI.NotFoundError);
    expect(expectErrorShape(e.error).code).toBe("model_not_found");
  });

  it("body over the limit → 413 (raw and SDK)", async () => {
    const big = "x".repeat(BODY_LIMIT + 1024);
    const res = await post("/v1/chat/completions", JSON.stringify({ model: "auto", messages: [{ role: "user", content: big }] }));
    expect(res.status).toBe(413);
    const { error } = await rawJson(res);
    expect(error.code).toBe("request_too_large");

    const e = await sdkError(() => client.chat.completions.create({ model: "auto", messages: [{ role: "user", content: big }] }));
    // The SDK has no subclass for 413: a plain APIError.
    expect(e.constructor).toBe(OpenAI.APIError);
    expect(e.status).toBe(413);
    expect(expectErrorShape(e.error).code).toBe("request_too_large");
  });

  it("no key → 401 (raw); bad key → 401 AuthenticationError", async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: "hi" }] }) });
    expect(res.status).toBe(401);
    const { error } = await rawJson(res);
    expect(error.type).toBe("authentication_error");

    const bad = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "llmgw-not-a-real-key", maxRetries: 0 });
    const e = await sdkError(() => bad.chat.completions.create({ model: "auto", messages: [{ role: "user", content: "hi" }] }));
    expect(e).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(e.status).toBe(401);
    expect(expectErrorShape(e.error).code).toBe("invalid_api_key");

    const e2 = await sdkError(() => bad.models.list());
    expect(e2).toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it("tenant key on an admin route → 403 PermissionDeniedError", async () => {
    const e = await sdkError(() => tenantClient.get("/llmgw/keys"));
    expect(e).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(e.status).toBe(403);
    expect(expectErrorShape(e.error).type).toBe("permission_error");

    const e2 = await sdkError(() => tenantClient.post("/llmgw/keys", { body: { tenant_id: "evil" } }));
    expect(e2).toBeInstanceOf(OpenAI.PermissionDeniedError);
  });

  it("admin route with a bad field → 400 naming it", async () => {
    const e = await sdkError(() => client.post("/llmgw/keys", { body: { tenant_id: "has spaces!" } }));
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
    expect(expectErrorShape(e.error).param).toBe("tenant_id");
  });

  it("unknown route → 404 NotFoundError", async () => {
    const e = await sdkError(() => client.get("/no/such/route"));
    expect(e).toBeInstanceOf(OpenAI.NotFoundError);
    expect(expectErrorShape(e.error).type).toBe("not_found_error");
    const res = await fetch(`${gw.url}/v2/anything`, { method: "POST" });
    expect(res.status).toBe(404);
    await rawJson(res);
  });

  it("provider 429 with Retry-After → 429 RateLimitError with retry-after", async () => {
    // Retry-After above the executor's longest wait: no retry, the only candidate fails at once.
    gw.sim.addFault({ model: "gpt-4o-mini", status: 429, count: 100, retryAfterSec: 7 });
    const e = await sdkError(() => client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Rate limit me" }] }));
    expect(e).toBeInstanceOf(OpenAI.RateLimitError);
    expect(e.status).toBe(429);
    expect(e.headers?.get("retry-after")).toBe("7");
    const inner = expectErrorShape(e.error);
    expect(inner.type).toBe("rate_limit_error");
    expect(inner.code).toBe("rate_limit_exceeded");
  });

  it("provider 429 before the first token of a stream → 429 RateLimitError, not a broken stream", async () => {
    gw.sim.addFault({ model: "gpt-4o-mini", status: 429, count: 100, retryAfterSec: 7 });
    const e = await sdkError(async () => {
      const stream = await client.chat.completions.create({ model: "gpt-4o-mini", stream: true, messages: [{ role: "user", content: "Rate limit my stream" }] });
      for await (const _ of stream) void _;
    });
    expect(e).toBeInstanceOf(OpenAI.RateLimitError);
    expect(e.headers?.get("retry-after")).toBe("7");
  });

  it("provider 500 on every attempt → 502 InternalServerError", async () => {
    gw.sim.addFault({ model: "gpt-4.1-nano", status: 500, count: 100 });
    const e = await sdkError(() => client.chat.completions.create({ model: "gpt-4.1-nano", messages: [{ role: "user", content: "Fail please" }] }));
    expect(e).toBeInstanceOf(OpenAI.InternalServerError);
    expect(e.status).toBe(502);
    const inner = expectErrorShape(e.error);
    expect(inner.type).toBe("server_error");
    expect(inner.code).toBe("upstream_error");
  });

  it("provider 503 on every attempt → 503 InternalServerError", async () => {
    gw.sim.addFault({ model: "gpt-4o", status: 503, count: 100, retryAfterSec: 30 });
    const e = await sdkError(() => client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "Overloaded?" }] }));
    expect(e).toBeInstanceOf(OpenAI.InternalServerError);
    expect(e.status).toBe(503);
    expect(expectErrorShape(e.error).type).toBe("service_unavailable");
  });

  it("provider port closed → 502 InternalServerError upstream_connection_error", async () => {
    const e = await sdkError(() => client.chat.completions.create({ model: "small-8k", messages: [{ role: "user", content: "Anyone home?" }] }));
    expect(e).toBeInstanceOf(OpenAI.InternalServerError);
    expect(e.status).toBe(502);
    expect(expectErrorShape(e.error).code).toBe("upstream_connection_error");
  });

  it("provider never answers → 504 InternalServerError timeout", async () => {
    const e = await sdkError(() => client.chat.completions.create({ model: "claude-3-5-haiku-latest", messages: [{ role: "user", content: "Hang [sim:timeout]" }] }));
    expect(e).toBeInstanceOf(OpenAI.InternalServerError);
    expect(e.status).toBe(504);
    const inner = expectErrorShape(e.error);
    expect(inner.type).toBe("timeout_error");
    expect(inner.code).toBe("timeout");
  });

  it("after the faults, the same models answer again", async () => {
    const r = await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Are you back?" }] });
    expect(r.choices[0]?.message.content).toBeTruthy();
  });
});
