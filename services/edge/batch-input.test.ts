import { describe, expect, it } from "vitest";
import { batchJsonl, parseBatchInput, parseBatchOutput } from "./batch-input.ts";

const l = (o: Record<string, unknown>) => JSON.stringify({ custom_id: "c1", method: "POST", url: "/v1/chat/completions", body: { model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }, ...o });

describe("parseBatchInput", () => {
  it("accepts same-model lines and skips blank ones", () => {
    const r = parseBatchInput(`${l({})}\n\n${l({ custom_id: "c2" })}\n`);
    expect(r.ok && r.value.model).toBe("gpt-4o-mini");
    expect(r.ok && r.value.lines.map((x) => x.customId)).toEqual(["c1", "c2"]);
  });

  it.each([
    ["invalid JSON", "{nope", "line 1: not valid JSON"],
    ["missing custom_id", l({ custom_id: "" }), "custom_id"],
    ["duplicate custom_id", `${l({})}\n${l({})}`, "duplicate custom_id"],
    ["wrong method", l({ method: "GET" }), "'method'"],
    ["wrong url", l({ url: "/v1/embeddings" }), "'url'"],
    ["no messages", l({ body: { model: "gpt-4o-mini", messages: [] } }), "body.messages"],
    ["stream", l({ body: { model: "gpt-4o-mini", messages: [{ role: "user", content: "x" }], stream: true } }), "body.stream"],
    ["mixed models", `${l({})}\n${l({ custom_id: "c2", body: { model: "gpt-4o", messages: [{ role: "user", content: "x" }] } })}`, "same model"],
    ["empty file", "\n\n", "no requests"],
  ])("rejects %s with a 400 on input_file_id", (_name, input, msg) => {
    const r = parseBatchInput(input);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.status).toBe(400);
    expect(r.error.toBody().error.param).toBe("input_file_id");
    expect(r.error.message).toContain(msg);
  });

  it("batchJsonl rewrites every line to the concrete model", () => {
    const r = parseBatchInput(l({ body: { model: "auto", messages: [{ role: "user", content: "x" }] } }));
    if (!r.ok) throw r.error;
    const out = JSON.parse(batchJsonl(r.value.lines, "gpt-4o-mini").trim()) as { body: { model: string } };
    expect(out.body.model).toBe("gpt-4o-mini");
  });
});

describe("parseBatchOutput", () => {
  it("reads usage (cached tokens disjoint), status and error codes; counts unreadable lines", () => {
    const ok = JSON.stringify({ custom_id: "a", response: { status_code: 200, body: { usage: { prompt_tokens: 10, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 4 } } } } });
    const err = JSON.stringify({ custom_id: "b", response: { status_code: 429, body: { error: { code: "rate_limit_exceeded" } } } });
    const r = parseBatchOutput(`${ok}\n${err}\nnot json\n`);
    expect(r.skipped).toBe(1);
    expect(r.lines[0]).toMatchObject({ customId: "a", status: 200, errorCode: "", usage: { inputTokens: 6, cachedInputTokens: 4, outputTokens: 5 } });
    expect(r.lines[1]).toMatchObject({ customId: "b", status: 429, errorCode: "rate_limit_exceeded", usage: null });
  });
});
