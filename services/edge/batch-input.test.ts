import { describe, expect, it } from "vitest";
import { parseBatchInput, parseBatchOutput } from "./batch-input.ts";

const limits = { json_depth: 64, json_keys: 1000, string_chars: 1000, messages: 3, tools: 2 };
const l = (o: Record<string, unknown>) => JSON.stringify({ custom_id: "c1", method: "POST", url: "/v1/chat/completions", body: { model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }, ...o });

describe("parseBatchInput", () => {
  it("accepts lines naming different models (each is routed on its own), skips blank ones, keeps line numbers", () => {
    const r = parseBatchInput(`${l({})}\n\n${l({ custom_id: "c2", body: { model: "auto", messages: [{ role: "user", content: "x" }] } })}\n`, limits);
    expect(r.ok && r.value.lines.map((x) => [x.customId, x.line, x.body.model])).toEqual([["c1", 1, "gpt-4o-mini"], ["c2", 3, "auto"]]);
  });

  it.each([
    ["invalid JSON", "{nope", "line 1: We could not parse the JSON"],
    ["missing custom_id", l({ custom_id: "" }), "custom_id"],
    ["duplicate custom_id", `${l({})}\n${l({})}`, "line 2: duplicate custom_id"],
    ["wrong method", l({ method: "GET" }), "'method'"],
    ["wrong url", l({ url: "/v1/embeddings" }), "'url'"],
    ["no messages", l({ body: { model: "gpt-4o-mini", messages: [] } }), "body.messages"],
    ["stream", l({ body: { model: "gpt-4o-mini", messages: [{ role: "user", content: "x" }], stream: true } }), "body.stream"],
    ["too many lines", `${l({})}\n${l({ custom_id: "c2" })}\n${l({ custom_id: "c3" })}`, "line 3: the file has more than 2 requests"],
    ["empty file", "\n\n", "no requests"],
    // What the chat route refuses is refused at upload, not when the batch is created or run.
    ["a message that is a number", l({ body: { model: "gpt-4o-mini", messages: [5] } }), "line 1: in 'body': Invalid request: 'messages[0]'"],
    ["a message that is null", l({ body: { model: "gpt-4o-mini", messages: [null] } }), "'messages[0]'"],
    ["content that is a number", l({ body: { model: "gpt-4o-mini", messages: [{ role: "user", content: 5 }] } }), "'messages[0].content'"],
    ["max_tokens that is a string", l({ body: { model: "gpt-4o-mini", messages: [{ role: "user", content: "x" }], max_tokens: "x" } }), "'max_tokens'"],
    ["a NUL in custom_id", l({ custom_id: "a\u0000b" }), "line 1: 'custom_id' contains a NUL character"],
    ["a lone surrogate in content", l({ body: { model: "gpt-4o-mini", messages: [{ role: "user", content: "\ud800" }] } }), "invalid Unicode"],
    ["a string over the limit", l({ body: { model: "gpt-4o-mini", messages: [{ role: "user", content: "x".repeat(1001) }] } }), "string_chars"],
    ["nesting past the limit", l({ body: { model: "gpt-4o-mini", messages: [{ role: "user", content: "x" }], deep: JSON.parse("[".repeat(100) + "]".repeat(100)) as unknown } }), "nesting exceeds"],
    ["too many messages", l({ body: { model: "gpt-4o-mini", messages: Array.from({ length: 4 }, () => ({ role: "user", content: "x" })) } }), "'messages' has 4 entries"],
    ["a prototype key", l({}).replace('"body":{', '"body":{"__proto__":{"x":1},'), "__proto__"],
  ])("rejects %s with a 400 on file naming the line", (_name, input, msg) => {
    const r = parseBatchInput(input, limits, 2);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.status).toBe(400);
    expect(r.error.toBody().error.param).toBe("file");
    expect(r.error.message).toContain(msg);
  });
});

describe("parseBatchOutput", () => {
  it("reads usage (cached tokens disjoint), status, error codes and bodies; counts unreadable lines", () => {
    const ok = JSON.stringify({ custom_id: "a", response: { status_code: 200, body: { id: "x", usage: { prompt_tokens: 10, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 4 } } } } });
    const err = JSON.stringify({ custom_id: "b", response: { status_code: 429, body: { error: { code: "rate_limit_exceeded" } } } });
    const lineErr = JSON.stringify({ custom_id: "c", response: null, error: { code: "batch_expired", message: "m" } });
    const r = parseBatchOutput(`${ok}\n${err}\nnot json\n${lineErr}\n`);
    expect(r.skipped).toBe(1);
    expect(r.lines[0]).toMatchObject({ customId: "a", status: 200, errorCode: "", usage: { inputTokens: 6, cachedInputTokens: 4, outputTokens: 5 }, body: { id: "x" } });
    expect(r.lines[1]).toMatchObject({ customId: "b", status: 429, errorCode: "rate_limit_exceeded", usage: null });
    expect(r.lines[2]).toMatchObject({ customId: "c", status: 500, errorCode: "batch_expired", body: { error: { code: "batch_expired" } } });
  });
});
