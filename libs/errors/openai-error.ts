// One error shape for every route and every service: the OpenAI error body.
// Clients (and the official SDKs) key their exception classes off the HTTP status, so status is part of the contract.

export type ErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "rate_limit_error"
  | "insufficient_quota"
  | "server_error"
  | "timeout_error"
  | "service_unavailable";

export interface OpenAIErrorBody {
  error: { message: string; type: ErrorType; param: string | null; code: string | null };
}

export interface GatewayErrorInit {
  status: number;
  message: string;
  type: ErrorType;
  code?: string | null;
  param?: string | null;
  /** Seconds the client should wait before retrying (sent as Retry-After). */
  retryAfterSec?: number;
  /** Extra response headers that belong to this answer (x-ratelimit-* on a 429). */
  headers?: Record<string, string>;
  cause?: unknown;
}

export class GatewayError extends Error {
  readonly status: number;
  readonly type: ErrorType;
  readonly code: string | null;
  readonly param: string | null;
  readonly retryAfterSec: number | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(init: GatewayErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "GatewayError";
    this.status = init.status;
    this.type = init.type;
    this.code = init.code ?? null;
    this.param = init.param ?? null;
    this.retryAfterSec = init.retryAfterSec;
    this.headers = init.headers;
  }

  /** The headers this answer carries on any route: Retry-After (whole seconds) and the error's own. */
  responseHeaders(): Record<string, string> {
    const out: Record<string, string> = { ...this.headers };
    if (this.retryAfterSec !== undefined) out["retry-after"] = String(Math.max(0, Math.ceil(this.retryAfterSec)));
    return out;
  }

  toBody(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export const errors = {
  badRequest: (message: string, param: string | null = null, code: string | null = null) =>
    new GatewayError({ status: 400, message, type: "invalid_request_error", param, code }),
  unauthorized: (message = "Missing or invalid API key. Pass it as 'Authorization: Bearer <key>'.") =>
    new GatewayError({ status: 401, message, type: "authentication_error", code: "invalid_api_key" }),
  forbidden: (message: string) => new GatewayError({ status: 403, message, type: "permission_error", code: "forbidden" }),
  modelNotFound: (model: string) =>
    new GatewayError({
      status: 404,
      message: `The model '${model}' does not exist or you do not have access to it.`,
      type: "invalid_request_error",
      param: "model",
      code: "model_not_found",
    }),
  notFound: (message: string) => new GatewayError({ status: 404, message, type: "not_found_error", code: "not_found" }),
  tooLarge: (limitBytes: number) =>
    new GatewayError({
      status: 413,
      message: `Request body exceeds the limit of ${limitBytes} bytes.`,
      type: "invalid_request_error",
      code: "request_too_large",
    }),
  rateLimited: (message: string, retryAfterSec?: number) =>
    new GatewayError({ status: 429, message, type: "rate_limit_error", code: "rate_limit_exceeded", retryAfterSec }),
  quotaExceeded: (message: string) =>
    new GatewayError({ status: 429, message, type: "insufficient_quota", code: "insufficient_quota" }),
  badGateway: (message: string, code = "upstream_error") =>
    new GatewayError({ status: 502, message, type: "server_error", code }),
  unavailable: (message: string, retryAfterSec?: number) =>
    new GatewayError({ status: 503, message, type: "service_unavailable", code: "service_unavailable", retryAfterSec }),
  timeout: (message: string) => new GatewayError({ status: 504, message, type: "timeout_error", code: "timeout" }),
  internal: (message = "Internal gateway error.") =>
    new GatewayError({ status: 500, message, type: "server_error", code: "internal_error" }),
} as const;

export function isGatewayError(e: unknown): e is GatewayError {
  return e instanceof GatewayError;
}

/** Anything thrown becomes a GatewayError; unknown failures are 500 with a safe message (details go to logs). */
export function toGatewayError(e: unknown): GatewayError {
  if (e instanceof GatewayError) return e;
  return errors.internal();
}
