// The non-streaming chat call to an OpenAI-compatible server without the SDK: one undici request read
// whole as text (undici-text.ts), one JSON parse. The profile showed the SDK's per-request machinery
// (header building, request logging helpers, its fetch wrapper) at about a tenth of the gateway's CPU; the wire is the same
// POST {baseURL}/chat/completions with the same JSON body and bearer key. Errors become the same
// ProviderFailure the SDK path produces. Streams keep the SDK (its SSE parser).
import type OpenAI from "openai";
import type { Dispatcher } from "undici";
import { parseRetryAfter, stringField, type ProviderFailure } from "./errors.ts";
import type { AbortEmitter } from "./types.ts";
import { providerAgent } from "./undici-fetch.ts";
import { requestText, TextCallError, type TextResponse } from "./undici-text.ts";

export interface DirectTarget {
  baseURL: string;
  apiKey: string;
  dispatcher?: Dispatcher;
}

export class DirectCallError extends Error {
  constructor(readonly failure: ProviderFailure) {
    super(failure.message);
    this.name = "DirectCallError";
  }
}

/** Splits once per adapter: undici's request() would parse a URL object per call. */
export function chatEndpoint(baseURL: string): { origin: string; path: string } {
  const url = `${baseURL.replace(/\/+$/, "")}/chat/completions`;
  const slash = url.indexOf("/", url.indexOf("://") + 3);
  return slash < 0 ? { origin: url, path: "/" } : { origin: url.slice(0, slash), path: url.slice(slash) };
}

/** `signal` may be an AbortEmitter (undici takes either; see providers/types.ts). */
export function directChat(t: DirectTarget): (body: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming, signal: AbortSignal | AbortEmitter) => Promise<OpenAI.Chat.ChatCompletion> {
  const { origin, path } = chatEndpoint(t.baseURL);
  const dispatcher = t.dispatcher ?? providerAgent();
  const headers = { authorization: `Bearer ${t.apiKey}`, "content-type": "application/json", accept: "application/json", "user-agent": "llmgw" };
  return async (body, signal) => {
    let res: TextResponse;
    try {
      res = await requestText(dispatcher, { origin, path, method: "POST", headers, body: JSON.stringify(body) }, signal);
    } catch (e) {
      if (signal.aborted) throw new DirectCallError({ kind: "aborted", message: "request aborted" });
      const message = e instanceof Error ? e.message : String(e);
      throw new DirectCallError({ kind: "connection", message: e instanceof TextCallError && e.afterHeaders ? `reading the answer: ${message}` : message });
    }
    const { text } = res;
    const parsed = parseJson(text);
    if (res.statusCode >= 200 && res.statusCode < 300) {
      if (typeof parsed === "object" && parsed !== null && Array.isArray((parsed as { choices?: unknown }).choices)) return parsed as OpenAI.Chat.ChatCompletion;
      throw new DirectCallError({ kind: "http", status: 502, message: `not a chat completion: ${text.slice(0, 200)}`, code: null, param: null, retryAfterSec: undefined });
    }
    const err = typeof parsed === "object" && parsed !== null ? (parsed as { error?: unknown }).error : undefined;
    const h = res.headers;
    const header = (name: string): string | null => {
      const v = h[name];
      return v === undefined ? null : Array.isArray(v) ? (v[0] ?? null) : v;
    };
    throw new DirectCallError({
      kind: "http",
      status: res.statusCode,
      message: stringField(err, "message") ?? (typeof err === "string" ? err : `HTTP ${res.statusCode}`),
      code: stringField(err, "code"),
      param: stringField(err, "param"),
      retryAfterSec: parseRetryAfter({ get: header }),
    });
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
