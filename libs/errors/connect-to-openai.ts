// The one translation from a Connect error (what our own services throw over RPC) to the OpenAI error
// shape the edge answers with. Status follows Connect's own code → HTTP table, so SDKs raise their usual
// exception class; a 4xx carries the service's message (it is about the caller's input), a 5xx never
// does (it is about the gateway's insides: the details go to the logs, not to the client).
//
// A service can refine the OpenAI fields of a 4xx (and the Retry-After of a 429/503) through the error's
// metadata, most easily with serviceError() below: e.g. ResourceExhausted with type insufficient_quota
// (a budget, not a rate) instead of the default rate_limit_error, or the request param at fault.
import { Code, ConnectError } from "@connectrpc/connect";
import { errors, GatewayError, isGatewayError, type ErrorType } from "./openai-error.ts";

export interface ConnectRule {
  status: number;
  type: ErrorType;
  /** OpenAI `code`. */
  code: string;
  /** The client's message for a 5xx, and for a 4xx whose service sent none. */
  message: string;
  /** Default Retry-After in seconds (rate limits and unavailability only). */
  retryAfterSec?: number;
}

const INTERNAL: ConnectRule = { status: 500, type: "server_error", code: "internal_error", message: "Internal gateway error." };

/** Every Connect code (the Record makes a missing one a type error). */
export const CONNECT_TO_OPENAI: Readonly<Record<Code, ConnectRule>> = {
  [Code.Canceled]: { status: 499, type: "invalid_request_error", code: "request_canceled", message: "The request was canceled." },
  [Code.Unknown]: INTERNAL,
  [Code.InvalidArgument]: { status: 400, type: "invalid_request_error", code: "invalid_argument", message: "The request is invalid." },
  [Code.DeadlineExceeded]: { status: 504, type: "timeout_error", code: "timeout", message: "A gateway service timed out." },
  [Code.NotFound]: { status: 404, type: "not_found_error", code: "not_found", message: "Not found." },
  [Code.AlreadyExists]: { status: 409, type: "invalid_request_error", code: "already_exists", message: "It already exists." },
  [Code.PermissionDenied]: { status: 403, type: "permission_error", code: "forbidden", message: "You are not allowed to do this." },
  [Code.ResourceExhausted]: { status: 429, type: "rate_limit_error", code: "rate_limit_exceeded", message: "Too many requests; try again.", retryAfterSec: 1 },
  [Code.FailedPrecondition]: { status: 400, type: "invalid_request_error", code: "failed_precondition", message: "The request cannot be served in the current state." },
  [Code.Aborted]: { status: 409, type: "invalid_request_error", code: "aborted", message: "The request conflicted with another one; try again." },
  [Code.OutOfRange]: { status: 400, type: "invalid_request_error", code: "out_of_range", message: "A value is out of range." },
  [Code.Unimplemented]: { status: 501, type: "server_error", code: "not_implemented", message: "This operation is not implemented by the gateway." },
  [Code.Internal]: INTERNAL,
  [Code.Unavailable]: { status: 503, type: "service_unavailable", code: "service_unavailable", message: "A gateway service is unavailable; try again.", retryAfterSec: 1 },
  [Code.DataLoss]: INTERNAL,
  [Code.Unauthenticated]: { status: 401, type: "authentication_error", code: "invalid_api_key", message: "Missing or invalid API key." },
};

/** Metadata keys (headers / gRPC trailers) through which a service refines the OpenAI error. */
export const ERROR_METADATA = {
  type: "llmgw-error-type",
  code: "llmgw-error-code",
  param: "llmgw-error-param",
  retryAfterSec: "llmgw-retry-after",
} as const;

export interface ServiceErrorDetail {
  /** OpenAI error type, e.g. "insufficient_quota" on ResourceExhausted (4xx only). */
  type?: ErrorType;
  /** OpenAI error code (4xx only). */
  code?: string;
  /** The request parameter at fault (4xx only). */
  param?: string;
  /** Retry-After in seconds (429 and 503). */
  retryAfterSec?: number;
}

/** For services: a ConnectError that the edge turns into exactly this OpenAI error. */
export function serviceError(message: string, code: Code, detail: ServiceErrorDetail = {}): ConnectError {
  const md = new Headers();
  if (detail.type !== undefined) md.set(ERROR_METADATA.type, detail.type);
  if (detail.code !== undefined) md.set(ERROR_METADATA.code, detail.code);
  if (detail.param !== undefined) md.set(ERROR_METADATA.param, detail.param);
  if (detail.retryAfterSec !== undefined) md.set(ERROR_METADATA.retryAfterSec, String(detail.retryAfterSec));
  return new ConnectError(message, code, md);
}

const ERROR_TYPES: Readonly<Record<ErrorType, true>> = {
  invalid_request_error: true,
  authentication_error: true,
  permission_error: true,
  not_found_error: true,
  rate_limit_error: true,
  insufficient_quota: true,
  server_error: true,
  timeout_error: true,
  service_unavailable: true,
};

const isErrorType = (v: string | null): v is ErrorType => v !== null && Object.hasOwn(ERROR_TYPES, v);

/** The one Connect → OpenAI translation. */
export function connectToOpenAI(e: ConnectError): GatewayError {
  const rule = CONNECT_TO_OPENAI[e.code] ?? INTERNAL;
  const clientFault = rule.status < 500;
  const md = e.metadata;
  const retry = Number(md.get(ERROR_METADATA.retryAfterSec) ?? Number.NaN);
  const retryable = rule.status === 429 || rule.status === 503;
  if (!clientFault) {
    return new GatewayError({
      status: rule.status,
      type: rule.type,
      code: rule.code,
      message: rule.message,
      retryAfterSec: retryable ? (Number.isFinite(retry) && retry >= 0 ? retry : rule.retryAfterSec) : undefined,
      cause: e,
    });
  }
  const mdType = md.get(ERROR_METADATA.type);
  const type = isErrorType(mdType) ? mdType : rule.type;
  // A refined type brings its own code (insufficient_quota) and drops the rule's default Retry-After:
  // waiting a second does not refill a budget.
  const sameKind = type === rule.type;
  const code = md.get(ERROR_METADATA.code) || (sameKind ? rule.code : type);
  const retryAfterSec = retryable && Number.isFinite(retry) && retry >= 0 ? retry : sameKind ? rule.retryAfterSec : undefined;
  return new GatewayError({
    status: rule.status,
    type,
    code,
    param: md.get(ERROR_METADATA.param) || null,
    message: e.rawMessage || rule.message,
    retryAfterSec,
    cause: e,
  });
}

/** Anything thrown, in the OpenAI shape: GatewayErrors as they are, Connect errors by the table, the rest 500. */
export function toOpenAIError(e: unknown): GatewayError {
  if (isGatewayError(e)) return e;
  if (e instanceof ConnectError) return connectToOpenAI(e);
  return errors.internal();
}
