// Rebuilds a chat.completion from stream chunks, so a streamed answer can be cached and verified
// like a non-streamed one.
import type OpenAI from "openai";
import { stopSequenceOf, withStopSequence } from "./stop-sequence.ts";

type Chunk = OpenAI.Chat.ChatCompletionChunk;
type ToolCall = OpenAI.Chat.ChatCompletionMessageFunctionToolCall;

export class CompletionAssembler {
  private id = "";
  private model = "";
  private created = 0;
  private content = "";
  private hasContent = false;
  private finish: OpenAI.Chat.ChatCompletion.Choice["finish_reason"] | null = null;
  private stopSequence: string | null = null;
  private readonly tools: ToolCall[] = [];
  private usage: OpenAI.CompletionUsage | undefined;

  add(c: Chunk): void {
    this.id ||= c.id;
    this.model ||= c.model;
    this.created ||= c.created;
    if (c.usage) this.usage = c.usage;
    const choice = c.choices[0];
    if (!choice) return;
    if (typeof choice.delta.content === "string") {
      this.content += choice.delta.content;
      this.hasContent = true;
    }
    for (const t of choice.delta.tool_calls ?? []) {
      const slot = (this.tools[t.index] ??= { id: "", type: "function", function: { name: "", arguments: "" } });
      if (t.id) slot.id = t.id;
      if (t.function?.name) slot.function.name += t.function.name;
      if (t.function?.arguments) slot.function.arguments += t.function.arguments;
    }
    if (choice.finish_reason) this.finish = choice.finish_reason;
    this.stopSequence = stopSequenceOf(choice) ?? this.stopSequence;
  }

  completion(): OpenAI.Chat.ChatCompletion {
    const message: OpenAI.Chat.ChatCompletionMessage = { role: "assistant", content: this.hasContent || this.tools.length === 0 ? this.content : null, refusal: null };
    if (this.tools.length > 0) message.tool_calls = this.tools.filter(Boolean);
    const out: OpenAI.Chat.ChatCompletion = {
      id: this.id,
      object: "chat.completion",
      created: this.created,
      model: this.model,
      choices: [withStopSequence({ index: 0, message, finish_reason: this.finish ?? "stop", logprobs: null }, this.stopSequence)],
    };
    if (this.usage) out.usage = this.usage;
    return out;
  }
}
