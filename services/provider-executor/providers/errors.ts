// Provider failures → the one GatewayError shape. Adapters first reduce their SDK's error to a
// ProviderFailure (see fromSdkError); the status mapping below is pure and shared by every provider.
import { GatewayError } from "#libs/errors/openai-error.ts";

export type ProviderFailure =
  | {
      kind: "http";
      status: number;
      message: string;
      code: string | null;
      param: string | null;
      retryAfterSec: number | undefined;
    }
  | { kind: "timeout"; message: string }
  | { kind: "connection"; message: string }
  | { kind: "aborted"; message: string };

/** Error codes the gateway sets on upstream failures (the engine's retry policy keys off them). */
export const UPSTREAM_CODES = {
  error: "upstream_error",
  connection: "upstream_connection_error",
  auth: "upstream_auth_failed",
  modelNotFound: "upstream_model_not_found",
  quota: "upstream_quota_exceeded",
  overloaded: "upstream_overloaded",
  timeout: "timeout",
  contextLength: "context_length_exceeded",
} as const;

const CONTEXT_RE = /context[_ ]length|context window|prompt is too long|maximum context|too many tokens/i;

export function gatewayErrorFromFailure(f: ProviderFailure, provider: string, cause?: unknown): GatewayError {
  switch (f.kind) {
    case "timeout":
      return new GatewayError({ status: 504, type: "timeout_error", code: UPSTREAM_CODES.timeout, message: `Provider '${provider}' timed out: ${f.message}`, cause });
    case "connection":
      return new GatewayError({ status: 502, type: "server_error", code: UPSTREAM_CODES.connection, message: `Could not reach provider '${provider}': ${f.message}`, cause });
    case "aborted":
      // Only reached when the caller went away; the status is never seen by a client.
      return new GatewayError({ status: 499, type: "invalid_request_error", code: "client_closed_request", message: f.message, cause });
    case "http":
      return fromHttp(f, provider, cause);
  }
}

function fromHttp(f: Extract<ProviderFailure, { kind: "http" }>, provider: string, cause: unknown): GatewayError {
  const s = f.status;
  if (s === 400 || s === 413 || s === 422) {
    const code = f.code ?? (CONTEXT_RE.test(f.message) ? UPSTREAM_CODES.contextLength : null);
    return new GatewayError({ status: 400, type: "invalid_request_error", code, param: f.param, message: f.message, cause });
  }
  if (s === 401 || s === 403) {
    // A bad gateway key is the operator's problem, not the client's.
    return new GatewayError({ status: 502, type: "server_error", code: UPSTREAM_CODES.auth, message: `Provider '${provider}' authentication failed (HTTP ${s}); check the gateway's provider key.`, cause });
  }
  if (s === 404) {
    return new GatewayError({ status: 502, type: "server_error", code: UPSTREAM_CODES.modelNotFound, message: `Provider '${provider}' does not know the model: ${f.message}`, cause });
  }
  if (s === 429) {
    if (f.code === "insufficient_quota") {
      return new GatewayError({ status: 502, type: "server_error", code: UPSTREAM_CODES.quota, message: `Provider '${provider}' quota exhausted for the gateway's account.`, cause });
    }
    return new GatewayError({ status: 429, type: "rate_limit_error", code: "rate_limit_exceeded", message: `Provider '${provider}' rate limit: ${f.message}`, retryAfterSec: f.retryAfterSec, cause });
  }
  if (s === 408 || s === 504) {
    return new GatewayError({ status: 504, type: "timeout_error", code: UPSTREAM_CODES.timeout, message: `Provider '${provider}' timed out (HTTP ${s}).`, cause });
  }
  if (s === 503 || s === 529) {
    return new GatewayError({ status: 503, type: "service_unavailable", code: UPSTREAM_CODES.overloaded, message: `Provider '${provider}' is overloaded (HTTP ${s}): ${f.message}`, retryAfterSec: f.retryAfterSec, cause });
  }
  return new GatewayError({ status: 502, type: "server_error", code: UPSTREAM_CODES.error, message: `Provider '${provider}' failed (HTTP ${s}): ${f.message}`, cause });
}

/** Parses `retry-after-ms`, then `retry-after` (seconds or HTTP date) into whole seconds. */
export function parseRetryAfter(headers: { get(name: string): string | null } | undefined, nowMs: number = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get("retry-after-ms");
  if (ms !== null && ms.trim() !== "" && Number.isFinite(Number(ms))) return Math.max(0, Number(ms) / 1000);
  const v = headers.get("retry-after");
  if (v === null || v.trim() === "") return undefined;
  const secs = Number(v);
  if (Number.isFinite(secs)) return Math.max(0, secs);
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, (at - nowMs) / 1000) : undefined;
}

/** The shape both official SDKs give their errors (APIError and its subclasses). */
interface SdkErrorClasses {
  APIError: abstract new (...args: never[]) => Error & { status: number | undefined; headers: Headers | undefined; error: unknown };
  APIConnectionTimeoutError: abstract new (...args: never[]) => Error;
  APIConnectionError: abstract new (...args: never[]) => Error;
  APIUserAbortError: abstract new (...args: never[]) => Error;
}

/** Reduces an SDK error to a ProviderFailure; `bodyMessage` extracts the provider's own message and code. */
export function fromSdkError(
  e: unknown,
  sdk: SdkErrorClasses,
  body: (err: unknown) => { message: string | null; code: string | null; param: string | null },
): ProviderFailure {
  if (e instanceof sdk.APIUserAbortError) return { kind: "aborted", message: "request aborted" };
  if (e instanceof sdk.APIConnectionTimeoutError) return { kind: "timeout", message: "request timed out" };
  if (e instanceof sdk.APIConnectionError) return { kind: "connection", message: e.message };
  if (e instanceof sdk.APIError && typeof e.status === "number") {
    const b = body(e.error);
    return {
      kind: "http",
      status: e.status,
      message: b.message ?? e.message,
      code: b.code,
      param: b.param,
      retryAfterSec: parseRetryAfter(e.headers),
    };
  }
  if (e instanceof Error && e.name === "AbortError") return { kind: "aborted", message: "request aborted" };
  return { kind: "connection", message: e instanceof Error ? e.message : String(e) };
}

export function stringField(o: unknown, key: string): string | null {
  if (typeof o !== "object" || o === null) return null;
  const v = (o as Record<string, unknown>)[key];
  return typeof v === "string" ? v : null;
}
