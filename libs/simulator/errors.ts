// Provider error bodies, each protocol in its own real shape. The SDKs pick their exception class from the
// HTTP status and expose the body and headers (retry-after) on it.

export type Protocol = "openai" | "anthropic";

export interface SimError {
  status: number;
  message: string;
  /** OpenAI `code` (e.g. context_length_exceeded, model_not_found, rate_limit_exceeded). */
  code?: string;
  param?: string;
  retryAfterSec?: number;
}

function openaiType(status: number): string {
  if (status === 429) return "rate_limit_error";
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "invalid_request_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

function anthropicType(status: number): string {
  switch (status) {
    case 400:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 503:
    case 529:
      return "overloaded_error";
    default:
      return status >= 500 ? "api_error" : "invalid_request_error";
  }
}

export function errorBody(protocol: Protocol, e: SimError): string {
  if (protocol === "anthropic") {
    return JSON.stringify({ type: "error", error: { type: anthropicType(e.status), message: e.message } });
  }
  return JSON.stringify({ error: { message: e.message, type: openaiType(e.status), param: e.param ?? null, code: e.code ?? null } });
}

/** Canonical error for an injected fault status. */
export function faultError(status: number, retryAfterSec: number | undefined): SimError {
  switch (status) {
    case 429:
      return {
        status,
        message: "Rate limit reached (simulated). Please try again later.",
        code: "rate_limit_exceeded",
        retryAfterSec: retryAfterSec ?? 1,
      };
    case 503:
      return { status, message: "The server is overloaded (simulated). Please try again later.", code: "service_unavailable", ...(retryAfterSec !== undefined ? { retryAfterSec } : {}) };
    case 400:
      return { status, message: "Invalid request (simulated fault).", code: "invalid_request", ...(retryAfterSec !== undefined ? { retryAfterSec } : {}) };
    default:
      return { status, message: "The server had an error while processing your request (simulated).", ...(retryAfterSec !== undefined ? { retryAfterSec } : {}) };
  }
}
