// Turns a complete chat.completion into the chunk sequence a live stream would have produced
// (role chunk, content in word-sized pieces, tool calls, finish chunk, optional usage chunk),
// so a cached answer to a streaming request looks like a streamed answer to any SDK.
import type OpenAI from "openai";
import { stopSequenceOf, withStopSequence } from "./stop-sequence.ts";

type Chunk = OpenAI.Chat.ChatCompletionChunk;

export function completionToChunks(c: OpenAI.Chat.ChatCompletion, opts: { includeUsage: boolean; usage?: OpenAI.CompletionUsage }): Chunk[] {
  const base = { id: c.id, object: "chat.completion.chunk" as const, created: c.created, model: c.model };
  const out: Chunk[] = [];
  const choice = c.choices[0];
  out.push({ ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null, logprobs: null }] });
  const content = choice?.message.content ?? "";
  for (const piece of splitWords(content)) {
    out.push({ ...base, choices: [{ index: 0, delta: { content: piece }, finish_reason: null, logprobs: null }] });
  }
  const calls = choice?.message.tool_calls ?? [];
  calls.forEach((call, index) => {
    if (call.type !== "function") return;
    out.push({
      ...base,
      choices: [
        {
          index: 0,
          delta: { tool_calls: [{ index, id: call.id, type: "function", function: { name: call.function.name, arguments: call.function.arguments } }] },
          finish_reason: null,
          logprobs: null,
        },
      ],
    });
  });
  out.push({ ...base, choices: [withStopSequence({ index: 0, delta: {}, finish_reason: choice?.finish_reason ?? "stop", logprobs: null }, stopSequenceOf(choice))] });
  if (opts.includeUsage) out.push({ ...base, choices: [], usage: opts.usage ?? c.usage ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 } });
  return out;
}

/** Splits text into pieces of about a word, keeping whitespace so the pieces concatenate back exactly. */
export function splitWords(text: string): string[] {
  if (!text) return [];
  return text.match(/\S+\s*|\s+/g) ?? [text];
}
