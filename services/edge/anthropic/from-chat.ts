// The pipeline's answer (an OpenAI chat.completion) → an Anthropic Message.
import type OpenAI from "openai";
import { stopSequenceOf } from "#libs/openai/stop-sequence.ts";
import { fromOpenAIUsage, type OpenAIUsageLike } from "#libs/pricing/usage-openai.ts";
import type { AnthropicMessage, AnthropicUsage, ResponseBlock, StopReason } from "./wire.ts";

const STOP: Record<OpenAI.Chat.ChatCompletion.Choice["finish_reason"], StopReason> = {
  stop: "end_turn",
  length: "max_tokens",
  tool_calls: "tool_use",
  function_call: "tool_use",
  content_filter: "refusal",
};

/** A stop sequence named by the provider makes a plain "stop" Anthropic's "stop_sequence". */
export function stopReasonOf(finish: string | null | undefined, stopSequence: string | null = null): StopReason {
  if (finish === "stop" && stopSequence !== null) return "stop_sequence";
  return finish && finish in STOP ? STOP[finish as keyof typeof STOP] : "end_turn";
}

/** Anthropic counts input, cache reads and cache writes apart; OpenAI's prompt_tokens holds all three. */
export function anthropicUsageOf(u: OpenAIUsageLike | null | undefined): AnthropicUsage {
  if (!u) return { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  const c = fromOpenAIUsage(u);
  return { input_tokens: c.inputTokens, output_tokens: c.outputTokens, cache_creation_input_tokens: c.cacheWrite5mTokens + c.cacheWrite1hTokens, cache_read_input_tokens: c.cachedInputTokens };
}

/** Tool arguments as the object Anthropic's `input` must be (a model's broken JSON becomes {}). */
export function toolInputOf(args: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(args || "{}");
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export function messageId(requestId: string): string {
  return `msg_${requestId.replaceAll("-", "")}`;
}

export function toAnthropicMessage(c: OpenAI.Chat.ChatCompletion, requestId: string): AnthropicMessage {
  const choice = c.choices[0];
  const content: ResponseBlock[] = [];
  const text = choice?.message.content ?? "";
  if (text.length > 0) content.push({ type: "text", text });
  for (const call of choice?.message.tool_calls ?? []) {
    if (call.type === "function") content.push({ type: "tool_use", id: call.id, name: call.function.name, input: toolInputOf(call.function.arguments) });
  }
  return {
    id: messageId(requestId),
    type: "message",
    role: "assistant",
    model: c.model,
    content,
    stop_reason: stopReasonOf(choice?.finish_reason, stopSequenceOf(choice)),
    stop_sequence: choice?.finish_reason === "stop" ? stopSequenceOf(choice) : null,
    usage: anthropicUsageOf(c.usage),
  };
}
