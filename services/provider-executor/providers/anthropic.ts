// Anthropic through @anthropic-ai/sdk: OpenAI request in, OpenAI completion / chunks out.
import { providerFetch } from "./undici-fetch.ts";
import Anthropic from "@anthropic-ai/sdk";
import { toAnthropicRequest } from "./anthropic-request.ts";
import { fromAnthropicMessage } from "./anthropic-response.ts";
import { AnthropicStreamTranslator } from "./anthropic-stream.ts";
import { fromSdkError, gatewayErrorFromFailure, stringField } from "./errors.ts";
import type { CallOptions, ChatChunk, ChatRequest, CompletionResult, ProviderAdapter, ProviderStream } from "./types.ts";

export interface AnthropicAdapterOptions {
  providerId: string;
  baseURL: string;
  apiKey: string;
  timeoutMs: number;
  fetch?: typeof fetch;
  /** Seconds since epoch for `created`; injectable for tests. */
  nowSec?: () => number;
}

export function createAnthropicAdapter(o: AnthropicAdapterOptions): ProviderAdapter {
  const client = new Anthropic({
    baseURL: o.baseURL,
    apiKey: o.apiKey,
    maxRetries: 0, // the engine's retry policy rules
    // The SDK warns on stderr about deprecated model names on every call; our logs are pino JSON.
    logLevel: "off",
    timeout: o.timeoutMs,
    fetch: o.fetch ?? providerFetch(),
  });
  const nowSec = o.nowSec ?? (() => Math.floor(Date.now() / 1000));
  const toError = (e: unknown) => gatewayErrorFromFailure(fromSdkError(e, Anthropic, anthropicErrorBody), o.providerId, e);

  return {
    kind: "anthropic",
    async complete(body: ChatRequest, opts: CallOptions): Promise<CompletionResult> {
      const req = toAnthropicRequest(body, opts.upstreamModel, opts.defaultMaxTokens);
      let msg: Anthropic.Messages.Message;
      try {
        msg = await client.messages.create({ ...req, stream: false }, { signal: opts.signal });
      } catch (e) {
        throw toError(e);
      }
      return fromAnthropicMessage(msg, opts.reportedModel, nowSec());
    },
    async openStream(body: ChatRequest, opts: CallOptions): Promise<ProviderStream> {
      const req = toAnthropicRequest(body, opts.upstreamModel, opts.defaultMaxTokens);
      let events: AsyncIterable<Anthropic.Messages.RawMessageStreamEvent>;
      try {
        events = await client.messages.create({ ...req, stream: true }, { signal: opts.signal });
      } catch (e) {
        throw toError(e);
      }
      const t = new AnthropicStreamTranslator(opts.reportedModel, nowSec());
      async function* chunks(): AsyncGenerator<ChatChunk> {
        try {
          for await (const ev of events) yield* t.push(ev);
        } catch (e) {
          throw toError(e);
        }
      }
      return {
        chunks: chunks(),
        usage: () => {
          const u = t.usage();
          return u ? { usage: u, complete: t.hasFinished } : null;
        },
      };
    },
  };
}

function anthropicErrorBody(err: unknown): { message: string | null; code: string | null; param: string | null } {
  // Anthropic bodies are { type: "error", error: { type, message, details?: { error_code } } }.
  const inner = typeof err === "object" && err !== null ? (err as { error?: unknown }).error : undefined;
  const details = typeof inner === "object" && inner !== null ? (inner as { details?: unknown }).details : undefined;
  return { message: stringField(inner, "message"), code: stringField(details, "error_code"), param: null };
}
