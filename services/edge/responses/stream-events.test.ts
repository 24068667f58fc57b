import type OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { validateResponsesRequest } from "./request-schema.ts";
import { responseEvents, type ResponseEvent } from "./stream-events.ts";
import type { ResponseFrame, ResponseObject } from "./to-response.ts";

const RID = "resp_0123456789abcdef0123456789abcdef";

function frame(): ResponseFrame {
  const v = validateResponsesRequest({ model: "auto", input: "x", stream: true });
  if (!v.ok) throw v.error;
  return { id: RID, createdAt: 1, req: v.value, previousResponseId: null, store: true };
}

const chunk = (delta: OpenAI.Chat.ChatCompletionChunk.Choice.Delta, finish: OpenAI.Chat.ChatCompletionChunk.Choice["finish_reason"] = null, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 1, model: "gpt-4o-mini", choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }], ...extra });
const usageChunk = (extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 1, model: "gpt-4o-mini", choices: [], usage: { prompt_tokens: 10, completion_tokens: 3, total_tokens: 13 }, ...extra });

async function run(chunks: string[]): Promise<{ events: ResponseEvent[]; ended: ResponseObject[]; gateways: unknown[] }> {
  const ended: ResponseObject[] = [];
  const gateways: unknown[] = [];
  const events: ResponseEvent[] = [];
  const source = (async function* () {
    yield* chunks;
  })();
  for await (const e of responseEvents(source, frame(), "gpt-4o-mini", async (final, gateway) => {
    ended.push(final);
    gateways.push(gateway);
    return gateway ? { ...gateway, seen: true } : undefined;
  })) {
    events.push(e);
  }
  return { events, ended, gateways };
}

describe("chat stream → Responses events", () => {
  it("text: the full event sequence, sequence numbers from 0, usage and the gateway's field on completed", async () => {
    const { events, ended } = await run([chunk({ role: "assistant", content: "" }), chunk({ content: "Hel" }), chunk({ content: "lo" }), chunk({}, "stop"), usageChunk({ llmgw: { cost_usd: "0.001" } })]);
    expect(events.map((e) => e.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const done = events[6];
    expect(done?.type === "response.output_text.done" && done.text).toBe("Hello");
    const completed = events.at(-1);
    if (completed?.type !== "response.completed") throw new Error("no completed");
    expect(completed.response.usage).toMatchObject({ input_tokens: 10, output_tokens: 3, total_tokens: 13 });
    expect(completed.response.output).toEqual([{ id: "msg_0123456789abcdef0123456789abcdef_0", type: "message", role: "assistant", status: "completed", content: [{ type: "output_text", text: "Hello", annotations: [], logprobs: [] }] }]);
    expect(completed.response.llmgw).toEqual({ cost_usd: "0.001", seen: true });
    expect(ended).toHaveLength(1);
    expect(ended[0]).not.toHaveProperty("llmgw");
  });

  it("tool calls: function_call items with argument deltas and done", async () => {
    const { events } = await run([
      chunk({ role: "assistant", tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "get_weather", arguments: "" } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
      chunk({ tool_calls: [{ index: 1, id: "call_2", type: "function", function: { name: "get_time", arguments: "{}" } }] }),
      chunk({}, "tool_calls"),
      usageChunk(),
    ]);
    expect(events.map((e) => e.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.delta",
      "response.output_item.added",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.done",
      "response.output_item.done",
      "response.function_call_arguments.done",
      "response.output_item.done",
      "response.completed",
    ]);
    const argsDone = events.filter((e) => e.type === "response.function_call_arguments.done");
    expect(argsDone.map((e) => e.type === "response.function_call_arguments.done" && [e.name, e.arguments, e.output_index])).toEqual([
      ["get_weather", '{"city":"Paris"}', 0],
      ["get_time", "{}", 1],
    ]);
    const completed = events.at(-1);
    if (completed?.type !== "response.completed") throw new Error("no completed");
    expect(completed.response.output.map((o) => o.type === "function_call" && [o.id, o.call_id, o.status])).toEqual([
      ["fc_0123456789abcdef0123456789abcdef_0", "call_1", "completed"],
      ["fc_0123456789abcdef0123456789abcdef_1", "call_2", "completed"],
    ]);
  });

  it("a length stop ends with response.incomplete", async () => {
    const { events } = await run([chunk({ content: "Once" }), chunk({}, "length"), usageChunk()]);
    const last = events.at(-1);
    expect(last?.type).toBe("response.incomplete");
    expect(last?.type === "response.incomplete" && last.response.incomplete_details).toEqual({ reason: "max_output_tokens" });
  });

  it("a failure after the first token: the text so far, an error event, then response.failed", async () => {
    const { events, ended } = await run([chunk({ content: "Par" }), JSON.stringify({ error: { message: "upstream reset", type: "api_error", param: null, code: "upstream_error" } })]);
    expect(events.map((e) => e.type).slice(-5)).toEqual(["response.output_text.done", "response.content_part.done", "response.output_item.done", "error", "response.failed"]);
    const err = events.at(-2);
    expect(err?.type === "error" && [err.code, err.message]).toEqual(["upstream_error", "upstream reset"]);
    const failed = events.at(-1);
    expect(failed?.type === "response.failed" && failed.response.status).toBe("failed");
    expect(failed?.type === "response.failed" && failed.response.error).toEqual({ code: "server_error", message: "upstream reset" });
    expect(ended[0]?.status).toBe("failed");
  });
});
