// The prompt of a shadow-tested request as the classifier sees it (roles and text, whether tools or
// JSON mode were asked for): what `train:router --shadow` learns from. Images and tool payloads are
// dropped; text is capped so one huge prompt cannot bloat the table.
import type OpenAI from "openai";
import type { ShadowInput } from "../storage/shadow-results.ts";

const MAX_CHARS_PER_MESSAGE = 8_000;

export function shadowInput(request: OpenAI.Chat.ChatCompletionCreateParams): ShadowInput {
  const messages = request.messages.map((m) => ({ role: m.role, content: textOf(m.content).slice(0, MAX_CHARS_PER_MESSAGE) }));
  const format = request.response_format?.type;
  return { messages, has_tools: (request.tools?.length ?? 0) > 0, json_mode: format === "json_object" || format === "json_schema" };
}

function textOf(content: OpenAI.Chat.ChatCompletionMessageParam["content"]): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((p) => ("text" in p && typeof p.text === "string" ? p.text : "")).filter(Boolean).join("\n");
}
