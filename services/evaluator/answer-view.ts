// Reads the parts of an OpenAI chat.completion (JSON bytes) the scorer looks at.
import type OpenAI from "openai";
import type { AnswerView } from "./domain/score.ts";

const decoder = new TextDecoder();

export function answerView(json: Uint8Array): AnswerView | undefined {
  if (json.length === 0) return undefined;
  const c = JSON.parse(decoder.decode(json)) as OpenAI.Chat.ChatCompletion;
  const choice = c.choices?.[0];
  return {
    content: choice?.message?.content ?? null,
    finishReason: choice?.finish_reason ?? "",
    toolCalls: (choice?.message?.tool_calls ?? []).flatMap((t) => (t.type === "function" ? [{ name: t.function.name, arguments: t.function.arguments }] : [])),
  };
}

export function requestView(json: Uint8Array): { jsonMode: boolean; hasTools: boolean } {
  if (json.length === 0) return { jsonMode: false, hasTools: false };
  const r = JSON.parse(decoder.decode(json)) as Partial<OpenAI.Chat.ChatCompletionCreateParams>;
  return { jsonMode: r.response_format?.type === "json_object" || r.response_format?.type === "json_schema", hasTools: (r.tools?.length ?? 0) > 0 };
}
