// Anthropic Message → OpenAI chat.completion (pure).
import type Anthropic from "@anthropic-ai/sdk";
import type OpenAI from "openai";
import { fromAnthropicUsage } from "#libs/pricing/usage-anthropic.ts";
import { toOpenAIUsage } from "#libs/pricing/usage-openai.ts";
import { withStopSequence } from "#libs/openai/stop-sequence.ts";
import type { ChatCompletion, Usage } from "./types.ts";

export type FinishReason = OpenAI.Chat.ChatCompletion.Choice["finish_reason"];

const FINISH: Record<Anthropic.Messages.StopReason, FinishReason> = {
  end_turn: "stop",
  stop_sequence: "stop",
  max_tokens: "length",
  tool_use: "tool_calls",
  refusal: "content_filter",
  pause_turn: "stop",
  model_context_window_exceeded: "length",
};

export function finishReasonFromStop(stop: Anthropic.Messages.StopReason | null | undefined): FinishReason {
  return stop ? (FINISH[stop] ?? "stop") : "stop";
}

export function fromAnthropicMessage(msg: Anthropic.Messages.Message, reportedModel: string, createdSec: number): { completion: ChatCompletion; usage: Usage } {
  let text = "";
  const toolCalls: OpenAI.Chat.ChatCompletionMessageFunctionToolCall[] = [];
  for (const block of msg.content) {
    if (block.type === "text") text += block.text;
    else if (block.type === "tool_use") {
      toolCalls.push({ id: block.id, type: "function", function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) } });
    }
    // Thinking and server-tool blocks have no OpenAI chat equivalent; their tokens still count in usage.
  }
  const usage = fromAnthropicUsage(msg.usage);
  const message: OpenAI.Chat.ChatCompletionMessage = {
    role: "assistant",
    content: text.length > 0 || toolCalls.length === 0 ? text : null,
    refusal: null,
  };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return {
    completion: {
      id: msg.id,
      object: "chat.completion",
      created: createdSec,
      model: reportedModel,
      choices: [withStopSequence({ index: 0, message, finish_reason: finishReasonFromStop(msg.stop_reason), logprobs: null }, msg.stop_sequence)],
      usage: toOpenAIUsage(usage),
    },
    usage,
  };
}
