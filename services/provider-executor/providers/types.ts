// What every provider adapter offers the engine. Requests and answers are OpenAI-shaped; the adapter
// owns the translation to its wire format and the normalisation of usage.
import type { EventEmitter } from "node:events";
import type OpenAI from "openai";
import type { ProviderType } from "#libs/config/closed-sets.ts";

import type { UsageCounts } from "#libs/pricing/usage-types.ts";

/** The gateway's one plain usage type (disjoint token kinds; see libs/pricing/usage-types.ts). */
export type Usage = UsageCounts;

export type ChatRequest = OpenAI.Chat.ChatCompletionCreateParams;
export type ChatCompletion = OpenAI.Chat.ChatCompletion;
export type ChatChunk = OpenAI.Chat.ChatCompletionChunk;

/** Per-call settings decided by the engine. */
/**
 * What undici's request() takes as a signal besides an AbortSignal: an EventEmitter with `aborted` and
 * `reason` that emits "abort" once. Node builds an AbortSignal (an EventTarget) at some cost per call.
 */
export interface AbortEmitter extends EventEmitter {
  readonly aborted: boolean;
  readonly reason: unknown;
}

export interface CallOptions {
  /** Upstream model name sent to the provider. */
  upstreamModel: string;
  /** Model id the gateway reports back (the configured id). */
  reportedModel: string;
  /** Used when the request has no max_tokens (Anthropic requires one). */
  defaultMaxTokens: number;
  /** Aborts the HTTP call (per-attempt timeout, total deadline, client gone). */
  signal: AbortSignal;
  /** The same abort as an EventEmitter undici's request() takes (no AbortSignal to build); optional for callers outside the engine. */
  abortEmitter?: AbortEmitter;
}

export interface CompletionResult {
  completion: ChatCompletion;
  /** Null when the provider reported none. */
  usage: Usage | null;
}

/** An opened stream: HTTP errors were already thrown by `openStream`. */
export interface ProviderStream {
  chunks: AsyncIterable<ChatChunk>;
  /**
   * Provider-reported usage once the stream has ended; null when none came. `complete` is false when
   * the stream was cut after a partial report (e.g. Anthropic message_start without message_delta).
   */
  usage(): { usage: Usage; complete: boolean } | null;
}

export interface ProviderAdapter {
  readonly kind: ProviderType;
  complete(body: ChatRequest, opts: CallOptions): Promise<CompletionResult>;
  openStream(body: ChatRequest, opts: CallOptions): Promise<ProviderStream>;
}

export { ZERO_USAGE } from "#libs/pricing/usage-types.ts";
