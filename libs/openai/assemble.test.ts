import { describe, expect, it } from "vitest";
import type OpenAI from "openai";
import { CompletionAssembler } from "./assemble.ts";
import { completionToChunks } from "./replay.ts";
import { stopSequenceOf, withStopSequence } from "./stop-sequence.ts";

describe("CompletionAssembler", () => {
  it("round-trips a replayed completion with tool calls", () => {
    const c: OpenAI.Chat.ChatCompletion = {
      id: "x",
      object: "chat.completion",
      created: 5,
      model: "m",
      choices: [
        {
          index: 0,
          finish_reason: "tool_calls",
          logprobs: null,
          message: { role: "assistant", content: null, refusal: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }] },
        },
      ],
      usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
    };
    const a = new CompletionAssembler();
    for (const ch of completionToChunks(c, { includeUsage: true })) a.add(ch);
    const out = a.completion();
    expect(out.choices[0]?.message.tool_calls).toEqual(c.choices[0]?.message.tool_calls);
    expect(out.choices[0]?.finish_reason).toBe("tool_calls");
    expect(out.usage?.total_tokens).toBe(7);
  });

  it("keeps the matched stop sequence through a replay and back (a cached answer to /v1/messages)", () => {
    const c: OpenAI.Chat.ChatCompletion = {
      id: "x", object: "chat.completion", created: 5, model: "m",
      choices: [withStopSequence({ index: 0, finish_reason: "stop" as const, logprobs: null, message: { role: "assistant" as const, content: "One", refusal: null } }, ".")],
    };
    const chunks = completionToChunks(c, { includeUsage: false });
    expect(stopSequenceOf(chunks.at(-1)?.choices[0])).toBe(".");
    const a = new CompletionAssembler();
    for (const ch of chunks) a.add(ch);
    expect(stopSequenceOf(a.completion().choices[0])).toBe(".");
    // No sequence, no field: OpenAI's own answers keep their shape.
    expect(Object.keys(completionToChunks({ ...c, choices: [{ index: 0, finish_reason: "stop", logprobs: null, message: { role: "assistant", content: "One", refusal: null } }] }, { includeUsage: false }).at(-1)?.choices[0] ?? {})).not.toContain("stop_reason");
  });

  it("joins content deltas", () => {
    const a = new CompletionAssembler();
    for (const text of ["Hel", "lo"]) a.add({ id: "i", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta: { content: text }, finish_reason: null }] });
    a.add({ id: "i", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta: {}, finish_reason: "stop" }] });
    expect(a.completion().choices[0]?.message.content).toBe("Hello");
  });
});
