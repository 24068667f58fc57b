// Which stop sequence ended an answer. OpenAI's chat API does not say; vLLM puts the matched string on
// the choice as `stop_reason`, and the gateway's Anthropic adapter does the same with Anthropic's
// `stop_sequence`, so the Messages API can report it back (stop_reason "stop_sequence").
import type OpenAI from "openai";

type Choice = OpenAI.Chat.ChatCompletion.Choice | OpenAI.Chat.ChatCompletionChunk.Choice;

/** The choice's matched stop sequence, when the provider said which (a string; vLLM may give a token id). */
export function stopSequenceOf(choice: Choice | undefined): string | null {
  const v = (choice as { stop_reason?: unknown } | undefined)?.stop_reason;
  return typeof v === "string" ? v : null;
}

/** The choice with its matched stop sequence recorded (unchanged when there is none). */
export function withStopSequence<C extends Choice>(choice: C, sequence: string | null | undefined): C {
  return typeof sequence === "string" ? { ...choice, stop_reason: sequence } : choice;
}
