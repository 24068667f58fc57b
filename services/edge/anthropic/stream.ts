// The pipeline's chat stream (chat.completion.chunk JSON, from a provider or replayed from the cache)
// → Anthropic's event sequence: message_start, then per content block content_block_start (the first
// one followed by a ping), its deltas (text_delta / input_json_delta) and content_block_stop, then
// message_delta with stop_reason and usage, then message_stop. An error after the start ends the
// stream with an `error` event (the Anthropic SDK raises it). Stateful, one instance per stream.
import type OpenAI from "openai";
import type { OpenAIErrorBody } from "#libs/errors/openai-error.ts";
import { stopSequenceOf } from "#libs/openai/stop-sequence.ts";
import { anthropicErrorOfBody } from "./errors.ts";
import { anthropicUsageOf, stopReasonOf } from "./from-chat.ts";
import type { GatewayInfo } from "../chat/gateway-info.ts";
import type { AnthropicUsage, StopReason, StreamEvent } from "./wire.ts";

type Chunk = OpenAI.Chat.ChatCompletionChunk;

export class ChatToAnthropicStream {
  private started = false;
  private pinged = false;
  private ended = false;
  /** Index of the open content block and what it is (tool blocks by their OpenAI tool_calls index). */
  private open: { index: number; kind: "text" } | { index: number; kind: "tool"; toolIndex: number } | null = null;
  private blocks = 0;
  private stop: StopReason | null = null;
  private stopSequence: string | null = null;
  private usage: AnthropicUsage | null = null;
  /** The pipeline's figures (cost, baseline, savings...) from its last chunk, for message_delta. */
  private info: GatewayInfo | null = null;

  constructor(
    private readonly id: string,
    private readonly model: string,
    /** The prompt estimate, for message_start (the provider's count comes in message_delta). */
    private readonly inputEstimate: number,
  ) {}

  /** One chunk of the pipeline's stream (JSON text). */
  push(json: string): StreamEvent[] {
    const parsed = JSON.parse(json) as Chunk | OpenAIErrorBody;
    if ("error" in parsed) return this.fail(anthropicErrorOfBody(parsed).error);
    const out = this.start();
    if (parsed.usage) this.usage = anthropicUsageOf(parsed.usage);
    const info = (parsed as { llmgw?: GatewayInfo }).llmgw;
    if (typeof info === "object" && info !== null) this.info = info;
    const choice = parsed.choices[0];
    if (!choice) return out;
    const d = choice.delta;
    if (typeof d.content === "string" && d.content.length > 0) {
      if (this.open?.kind !== "text") out.push(...this.openBlock({ type: "text", text: "" }, { kind: "text" }));
      out.push({ type: "content_block_delta", index: this.blocks - 1, delta: { type: "text_delta", text: d.content } });
    }
    for (const t of d.tool_calls ?? []) {
      const current = this.open?.kind === "tool" && this.open.toolIndex === t.index;
      if (!current) out.push(...this.openBlock({ type: "tool_use", id: t.id ?? `toolu_${this.id}_${t.index}`, name: t.function?.name ?? "", input: {} }, { kind: "tool", toolIndex: t.index }));
      const args = t.function?.arguments;
      if (args) out.push({ type: "content_block_delta", index: this.blocks - 1, delta: { type: "input_json_delta", partial_json: args } });
    }
    if (choice.finish_reason) {
      this.stopSequence = choice.finish_reason === "stop" ? stopSequenceOf(choice) : null;
      this.stop = stopReasonOf(choice.finish_reason, this.stopSequence);
    }
    return out;
  }

  /**
   * The pipeline's stream ended: close the open block, report stop reason, usage and the gateway's
   * figures (the pipeline's `llmgw` field, moved from its last chunk to message_delta).
   */
  end(): StreamEvent[] {
    if (this.ended) return [];
    const out = this.start();
    out.push(...this.closeBlock());
    this.ended = true;
    const usage = this.usage ?? { input_tokens: this.inputEstimate, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
    out.push({ type: "message_delta", delta: { stop_reason: this.stop ?? "end_turn", stop_sequence: this.stopSequence }, usage, ...(this.info ? { llmgw: this.info } : {}) });
    out.push({ type: "message_stop" });
    return out;
  }

  /** An error after the first event: Anthropic ends such a stream with an `error` event and nothing after it. */
  fail(error: { type: string; message: string }): StreamEvent[] {
    if (this.ended) return [];
    this.ended = true;
    return [{ type: "error", error }];
  }

  get finished(): boolean {
    return this.ended;
  }

  private start(): StreamEvent[] {
    if (this.started) return [];
    this.started = true;
    return [
      {
        type: "message_start",
        message: {
          id: this.id,
          type: "message",
          role: "assistant",
          model: this.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: this.inputEstimate, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
        },
      },
    ];
  }

  private openBlock(block: Extract<StreamEvent, { type: "content_block_start" }>["content_block"], kind: { kind: "text" } | { kind: "tool"; toolIndex: number }): StreamEvent[] {
    const out = this.closeBlock();
    const index = this.blocks++;
    this.open = { index, ...kind };
    out.push({ type: "content_block_start", index, content_block: block });
    if (!this.pinged) {
      this.pinged = true;
      out.push({ type: "ping" });
    }
    return out;
  }

  private closeBlock(): StreamEvent[] {
    if (!this.open) return [];
    const index = this.open.index;
    this.open = null;
    return [{ type: "content_block_stop", index }];
  }
}

/** One SSE frame as Anthropic writes it: the event name, then the data. */
export function sseFrame(e: StreamEvent): string {
  return `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
}
