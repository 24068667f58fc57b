// OpenAI and every OpenAI-compatible server (vLLM, Ollama, Groq, Together...) through the `openai` SDK.
// The wire format already is the gateway's lingua franca, so the transforms are tiny: set the upstream
// model, force usage on streams, report the gateway's model id back.
import OpenAI from "openai";
import { fromOpenAIUsage } from "#libs/pricing/usage-openai.ts";
import { DirectCallError, directChat } from "./openai-direct.ts";
import { providerFetch } from "./undici-fetch.ts";
import { fromSdkError, gatewayErrorFromFailure, stringField } from "./errors.ts";
import type { CallOptions, ChatChunk, ChatRequest, CompletionResult, ProviderAdapter, ProviderStream, Usage } from "./types.ts";

export interface OpenAIAdapterOptions {
  /** Provider id from config, used in error messages. */
  providerId: string;
  baseURL: string;
  apiKey: string;
  /** Per-attempt HTTP timeout; the engine also enforces its own. */
  timeoutMs: number;
  fetch?: typeof fetch;
}

/** Request transform: upstream model name, no stream flag (the adapter chooses), usage always on streams. */
export function toOpenAIRequest(body: ChatRequest, upstreamModel: string): OpenAI.Chat.ChatCompletionCreateParamsNonStreaming {
  const { stream: _stream, stream_options: _opts, ...rest } = body;
  return { ...rest, model: upstreamModel };
}

export function toOpenAIStreamRequest(body: ChatRequest, upstreamModel: string): OpenAI.Chat.ChatCompletionCreateParamsStreaming {
  return {
    ...toOpenAIRequest(body, upstreamModel),
    stream: true,
    // Usage on every stream: the ledger bills from provider counts, never from estimates when avoidable.
    stream_options: { ...(body.stream_options ?? {}), include_usage: true },
  };
}

export function createOpenAIAdapter(o: OpenAIAdapterOptions): ProviderAdapter {
  // One client per deployment (the engine caches adapters), no SDK logging or retries.
  const client = new OpenAI({
    baseURL: o.baseURL,
    apiKey: o.apiKey,
    maxRetries: 0, // the engine's retry policy rules
    timeout: o.timeoutMs,
    logLevel: "off",
    fetch: o.fetch ?? providerFetch(),
  });
  const toError = (e: unknown) => gatewayErrorFromFailure(e instanceof DirectCallError ? e.failure : fromSdkError(e, OpenAI, openAIErrorBody), o.providerId, e);
  // Non-streaming calls skip the SDK unless a fetch is injected (LLMGW_PROVIDER_FETCH=platform, tests).
  const direct = o.fetch ? undefined : directChat({ baseURL: o.baseURL, apiKey: o.apiKey });

  return {
    kind: "openai",
    async complete(body: ChatRequest, opts: CallOptions): Promise<CompletionResult> {
      let completion: OpenAI.Chat.ChatCompletion;
      try {
        const req = toOpenAIRequest(body, opts.upstreamModel);
        completion = direct ? await direct(req, opts.abortEmitter ?? opts.signal) : await client.chat.completions.create(req, { signal: opts.signal });
      } catch (e) {
        throw toError(e);
      }
      return {
        completion: { ...completion, model: opts.reportedModel },
        usage: completion.usage ? fromOpenAIUsage(completion.usage) : null,
      };
    },
    async openStream(body: ChatRequest, opts: CallOptions): Promise<ProviderStream> {
      let stream: AsyncIterable<ChatChunk>;
      try {
        stream = await client.chat.completions.create(toOpenAIStreamRequest(body, opts.upstreamModel), { signal: opts.signal });
      } catch (e) {
        throw toError(e);
      }
      let usage: Usage | null = null;
      async function* chunks(): AsyncGenerator<ChatChunk> {
        try {
          for await (const chunk of stream) {
            if (chunk.usage) usage = fromOpenAIUsage(chunk.usage);
            yield { ...chunk, model: opts.reportedModel };
          }
        } catch (e) {
          throw toError(e);
        }
      }
      return { chunks: chunks(), usage: () => (usage ? { usage, complete: true } : null) };
    },
  };
}

function openAIErrorBody(err: unknown): { message: string | null; code: string | null; param: string | null } {
  // The SDK stores the body's `error` object on APIError.error.
  return { message: stringField(err, "message"), code: stringField(err, "code"), param: stringField(err, "param") };
}
