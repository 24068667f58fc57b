// Errors on the Anthropic routes: the gateway's one error (GatewayError, itself made from Connect
// errors by libs/errors/connect-to-openai.ts) in Anthropic's shape, so the Anthropic SDK raises its
// own classes (BadRequestError, AuthenticationError, NotFoundError, RateLimitError...).
import type { GatewayError, OpenAIErrorBody } from "#libs/errors/openai-error.ts";

export type AnthropicErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "billing_error"
  | "permission_error"
  | "not_found_error"
  | "request_too_large"
  | "rate_limit_error"
  | "api_error"
  | "timeout_error"
  | "overloaded_error";

export interface AnthropicErrorBody {
  type: "error";
  error: { type: AnthropicErrorType; message: string };
}

const BY_STATUS: Readonly<Record<number, AnthropicErrorType>> = {
  400: "invalid_request_error",
  401: "authentication_error",
  402: "billing_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  504: "timeout_error",
  529: "overloaded_error",
};

/** Status and body as Anthropic would send them. A gateway 503 (a service or provider unavailable) is Anthropic's 529. */
export function toAnthropicError(e: GatewayError): { status: number; body: AnthropicErrorBody } {
  const status = e.status === 503 ? 529 : e.status;
  const type = BY_STATUS[status] ?? (status >= 500 ? "api_error" : "invalid_request_error");
  return { status, body: { type: "error", error: { type, message: e.message } } };
}

const BY_OPENAI_TYPE: Readonly<Record<string, AnthropicErrorType>> = {
  invalid_request_error: "invalid_request_error",
  authentication_error: "authentication_error",
  permission_error: "permission_error",
  not_found_error: "not_found_error",
  rate_limit_error: "rate_limit_error",
  insufficient_quota: "rate_limit_error",
  timeout_error: "timeout_error",
  service_unavailable: "overloaded_error",
};

/** An OpenAI error body that arrived inside a started stream (no status left to read) → Anthropic's. */
export function anthropicErrorOfBody(b: OpenAIErrorBody): AnthropicErrorBody {
  return { type: "error", error: { type: BY_OPENAI_TYPE[b.error.type] ?? "api_error", message: b.error.message } };
}
