// Anthropic stream events → OpenAI chat.completion.chunk objects (pure, stateful per stream).
// Order produced: role chunk, content / tool-call deltas, finish chunk, usage chunk (choices: []).
import type Anthropic from "@anthropic-ai/sdk";
import { fromAnthropicUsage, type AnthropicUsageLike } from "#libs/pricing/usage-anthropic.ts";
import { toOpenAIUsage } from "#libs/pricing/usage-openai.ts";
import { withStopSequence } from "#libs/openai/stop-sequence.ts";
import { finishReasonFromStop } from "./anthropic-response.ts";
import type { ChatChunk, Usage } from "./types.ts";

type Delta = ChatChunk["choices"][number]["delta"];

export class AnthropicStreamTranslator {
  private id = "";
  private startUsage: AnthropicUsageLike | null = null;
  private deltaUsage: AnthropicUsageLike | null = null;
  /** Anthropic content-block index → OpenAI tool_calls index. */
  private readonly toolIndex = new Map<number, number>();
  private finished = false;

  constructor(
    private readonly model: string,
    private readonly createdSec: number,
  ) {}

  push(ev: Anthropic.Messages.RawMessageStreamEvent): ChatChunk[] {
    switch (ev.type) {
      case "message_start":
        this.id = ev.message.id;
        this.startUsage = ev.message.usage;
        return [this.chunk({ role: "assistant", content: "" })];
      case "content_block_start": {
        const b = ev.content_block;
        if (b.type === "text" && b.text.length > 0) return [this.chunk({ content: b.text })];
        if (b.type === "tool_use") {
          const index = this.toolIndex.size;
          this.toolIndex.set(ev.index, index);
          return [this.chunk({ tool_calls: [{ index, id: b.id, type: "function", function: { name: b.name, arguments: "" } }] })];
        }
        return [];
      }
      case "content_block_delta": {
        const d = ev.delta;
        if (d.type === "text_delta") return d.text.length > 0 ? [this.chunk({ content: d.text })] : [];
        if (d.type === "input_json_delta") {
          const index = this.toolIndex.get(ev.index);
          if (index === undefined || d.partial_json.length === 0) return [];
          return [this.chunk({ tool_calls: [{ index, function: { arguments: d.partial_json } }] })];
        }
        return [];
      }
      case "content_block_stop":
        return [];
      case "message_delta":
        this.deltaUsage = ev.usage;
        this.finished = true;
        return [this.chunk({}, finishReasonFromStop(ev.delta.stop_reason), ev.delta.stop_sequence)];
      case "message_stop": {
        const usage = this.usage();
        return usage ? [{ ...this.chunk({}), choices: [], usage: toOpenAIUsage(usage) }] : [];
      }
    }
  }

  /** True once a finish_reason was emitted. */
  get hasFinished(): boolean {
    return this.finished;
  }

  /**
   * message_start carries input and cache counts, message_delta the cumulative output (and, on newer
   * APIs, cumulative input); the later non-null value wins.
   */
  usage(): Usage | null {
    if (!this.startUsage && !this.deltaUsage) return null;
    const s = this.startUsage ?? {};
    const d = this.deltaUsage ?? {};
    return fromAnthropicUsage({
      input_tokens: d.input_tokens ?? s.input_tokens,
      output_tokens: d.output_tokens ?? s.output_tokens,
      cache_read_input_tokens: d.cache_read_input_tokens ?? s.cache_read_input_tokens,
      cache_creation_input_tokens: d.cache_creation_input_tokens ?? s.cache_creation_input_tokens,
      cache_creation: s.cache_creation ?? null,
      output_tokens_details: d.output_tokens_details ?? s.output_tokens_details ?? null,
    });
  }

  private chunk(delta: Delta, finish: ChatChunk["choices"][number]["finish_reason"] = null, stopSequence?: string | null): ChatChunk {
    return {
      id: this.id,
      object: "chat.completion.chunk",
      created: this.createdSec,
      model: this.model,
      choices: [withStopSequence({ index: 0, delta, finish_reason: finish, logprobs: null }, stopSequence)],
    };
  }
}
