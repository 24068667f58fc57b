import type Anthropic from "@anthropic-ai/sdk";
import { ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { fromAnthropicCustomId, fromAnthropicResult, openAIStatus, parseResultsFileId, toAnthropicBatchRequests, toAnthropicCustomId, toOpenAIBatch } from "./anthropic-batch-translate.ts";

const line = (custom_id: string, body: object, extra: object = {}) => JSON.stringify({ custom_id, method: "POST", url: "/v1/chat/completions", body, ...extra });

function batch(over: Partial<Anthropic.Messages.MessageBatch> & { counts?: Partial<Anthropic.Messages.MessageBatchRequestCounts> } = {}): Anthropic.Messages.MessageBatch {
  const { counts, ...rest } = over;
  return {
    id: "msgbatch_abc",
    type: "message_batch",
    processing_status: "in_progress",
    request_counts: { processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0, ...counts },
    created_at: "2026-01-01T00:00:00Z",
    expires_at: "2026-01-02T00:00:00Z",
    ended_at: null,
    archived_at: null,
    cancel_initiated_at: null,
    results_url: null,
    ...rest,
  };
}

describe("OpenAI batch lines → Anthropic batch requests", () => {
  it("translates each body with the live chat translation (system, upstream model, max_tokens default, sampling), drops stream flags, blank lines", () => {
    const jsonl = [
      line("a", { model: "gw", messages: [{ role: "system", content: "be brief" }, { role: "user", content: "hi" }], temperature: 1.5, stream: true, stream_options: { include_usage: true } }),
      "",
      line("b", { model: "gw", max_tokens: 7, messages: [{ role: "user", content: "yo" }], stop: "END" }),
    ].join("\n");
    const reqs = toAnthropicBatchRequests(jsonl, "claude-up", 1024);
    expect(reqs).toEqual([
      { custom_id: "a", params: { model: "claude-up", max_tokens: 1024, system: "be brief", messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }], temperature: 1 } },
      { custom_id: "b", params: { model: "claude-up", max_tokens: 7, messages: [{ role: "user", content: [{ type: "text", text: "yo" }] }], stop_sequences: ["END"] } },
    ]);
  });

  it("rejects lines naming the line and custom_id: bad url, untranslatable body, duplicates, non-JSON", () => {
    const body = { model: "gw", messages: [{ role: "user", content: "q" }] };
    expect(() => toAnthropicBatchRequests(line("a", body, { url: "/v1/embeddings" }), "m", 10)).toThrow(/line 1 \(custom_id 'a'\): url must be \/v1\/chat\/completions/);
    expect(() => toAnthropicBatchRequests(`${line("a", body)}\n${line("x", { model: "gw", messages: [{ role: "function", name: "f", content: "" }] })}`, "m", 10)).toThrow(/line 2 \(custom_id 'x'\).*param: messages\[0\]\.role/);
    expect(() => toAnthropicBatchRequests(`${line("a", body)}\n${line("a", body)}`, "m", 10)).toThrow(/duplicate custom_id/);
    expect(() => toAnthropicBatchRequests("{nope", "m", 10)).toThrow(ConnectError);
    expect(() => toAnthropicBatchRequests("\n\n", "m", 10)).toThrow(/no request lines/);
  });

  it("custom_ids outside Anthropic's alphabet travel base64url-encoded and come back unchanged", () => {
    for (const id of ["plain-id_1", "with space", "ünïcode/slash", "b64_looks-encoded"]) {
      const a = toAnthropicCustomId(id);
      expect(a).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
      expect(fromAnthropicCustomId(a)).toBe(id);
    }
    expect(toAnthropicCustomId("plain-id_1")).toBe("plain-id_1");
    expect(() => toAnthropicCustomId("x ".repeat(40))).toThrow(/too long/);
  });
});

describe("Anthropic Message Batch → OpenAI batch object", () => {
  it("maps processing_status to OpenAI statuses", () => {
    expect(openAIStatus(batch())).toBe("in_progress");
    expect(openAIStatus(batch({ processing_status: "canceling", cancel_initiated_at: "2026-01-01T00:01:00Z" }))).toBe("cancelling");
    expect(openAIStatus(batch({ processing_status: "ended", cancel_initiated_at: "2026-01-01T00:01:00Z", counts: { canceled: 2 } }))).toBe("cancelled");
    expect(openAIStatus(batch({ processing_status: "ended", counts: { succeeded: 2, expired: 1 } }))).toBe("expired");
    expect(openAIStatus(batch({ processing_status: "ended", counts: { succeeded: 2, errored: 1 } }))).toBe("completed");
  });

  it("counts, timestamps and the synthetic output / error file ids", () => {
    const inProgress = toOpenAIBatch(batch({ counts: { processing: 3 } }), { k: "v" });
    expect(inProgress).toMatchObject({ object: "batch", status: "in_progress", output_file_id: null, error_file_id: null, request_counts: { total: 3, completed: 0, failed: 0 }, metadata: { k: "v" }, created_at: 1767225600, expires_at: 1767312000 });
    const ended = toOpenAIBatch(batch({ processing_status: "ended", ended_at: "2026-01-01T01:00:00Z", counts: { succeeded: 5, errored: 1, expired: 1, canceled: 1 } }));
    expect(ended).toMatchObject({ status: "expired", output_file_id: "msgbatch_abc:output", error_file_id: "msgbatch_abc:errors", request_counts: { total: 8, completed: 5, failed: 3 }, expired_at: 1767229200, completed_at: null });
    expect(toOpenAIBatch(batch({ processing_status: "ended", ended_at: "2026-01-01T01:00:00Z", counts: { succeeded: 2 } }))).toMatchObject({ status: "completed", completed_at: 1767229200, error_file_id: null });
    expect(parseResultsFileId("msgbatch_abc:errors")).toEqual({ batchId: "msgbatch_abc", kind: "errors" });
    expect(parseResultsFileId("file-123")).toBeUndefined();
  });
});

describe("Anthropic results → OpenAI output lines", () => {
  const message: Anthropic.Messages.Message = {
    id: "msg_1",
    type: "message",
    role: "assistant",
    model: "claude-up",
    content: [{ type: "text", text: "hello", citations: null }],
    stop_reason: "max_tokens",
    stop_sequence: null,
    usage: { input_tokens: 10, output_tokens: 3, cache_creation_input_tokens: 2, cache_read_input_tokens: 4, server_tool_use: null, service_tier: null },
  } as unknown as Anthropic.Messages.Message;

  it("succeeded → 200 with a chat.completion (gateway model, finish_reason, usage with cache reads and writes), original custom_id", () => {
    const t = fromAnthropicResult({ custom_id: toAnthropicCustomId("my id"), result: { type: "succeeded", message } }, "batch_req_1", "gw-model", 1700000000);
    expect(t.ok).toBe(true);
    const out = JSON.parse(t.line) as { id: string; custom_id: string; response: { status_code: number; request_id: string; body: { object: string; model: string; created: number; choices: { message: { content: string }; finish_reason: string }[]; usage: { prompt_tokens: number; completion_tokens: number; prompt_tokens_details: { cached_tokens: number; cache_write_tokens: number } } } }; error: null };
    expect(out).toMatchObject({ id: "batch_req_1", custom_id: "my id", error: null, response: { status_code: 200, request_id: "msg_1" } });
    expect(out.response.body).toMatchObject({ object: "chat.completion", model: "gw-model", created: 1700000000, choices: [{ message: { content: "hello" }, finish_reason: "length" }] });
    // Cache reads and writes stay distinguishable, so the line is billed at cache prices.
    expect(out.response.body.usage).toMatchObject({ prompt_tokens: 16, completion_tokens: 3, prompt_tokens_details: { cached_tokens: 4, cache_write_tokens: 2 } });
  });

  it("errored → the provider's status with an OpenAI error body; canceled / expired → OpenAI's batch_cancelled / batch_expired", () => {
    const errored = fromAnthropicResult({ custom_id: "e", result: { type: "errored", error: { type: "error", request_id: "req_9", error: { type: "overloaded_error", message: "busy" } } } }, "l1", "gw", 0);
    expect(errored.ok).toBe(false);
    expect(JSON.parse(errored.line)).toEqual({ id: "l1", custom_id: "e", response: { status_code: 503, request_id: "req_9", body: { error: { message: "busy", type: "service_unavailable", param: null, code: "overloaded_error" } } }, error: null });
    const bad = JSON.parse(fromAnthropicResult({ custom_id: "b", result: { type: "errored", error: { type: "error", request_id: null, error: { type: "invalid_request_error", message: "nope" } } } }, "l2", "gw", 0).line) as { response: { status_code: number } };
    expect(bad.response.status_code).toBe(400);
    expect(JSON.parse(fromAnthropicResult({ custom_id: "c", result: { type: "canceled" } }, "l3", "gw", 0).line)).toEqual({ id: "l3", custom_id: "c", response: null, error: { code: "batch_cancelled", message: "This request was not executed because the batch was cancelled." } });
    expect(JSON.parse(fromAnthropicResult({ custom_id: "x", result: { type: "expired" } }, "l4", "gw", 0).line)).toMatchObject({ response: null, error: { code: "batch_expired" } });
  });
});
