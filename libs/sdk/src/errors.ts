// The SDK raises the official openai package's error classes (every call, admin ones included, goes
// through one openai client): code written against the openai SDK catches the same classes here.
import OpenAI from "openai";

export const APIError = OpenAI.APIError;
export const BadRequestError = OpenAI.BadRequestError;
export const AuthenticationError = OpenAI.AuthenticationError;
export const PermissionDeniedError = OpenAI.PermissionDeniedError;
export const NotFoundError = OpenAI.NotFoundError;
export const ConflictError = OpenAI.ConflictError;
export const UnprocessableEntityError = OpenAI.UnprocessableEntityError;
export const RateLimitError = OpenAI.RateLimitError;
export const InternalServerError = OpenAI.InternalServerError;
export const APIConnectionError = OpenAI.APIConnectionError;
export const APIConnectionTimeoutError = OpenAI.APIConnectionTimeoutError;
export const APIUserAbortError = OpenAI.APIUserAbortError;

export type APIError = InstanceType<typeof OpenAI.APIError>;
export type BadRequestError = InstanceType<typeof OpenAI.BadRequestError>;
export type AuthenticationError = InstanceType<typeof OpenAI.AuthenticationError>;
export type PermissionDeniedError = InstanceType<typeof OpenAI.PermissionDeniedError>;
export type NotFoundError = InstanceType<typeof OpenAI.NotFoundError>;
export type ConflictError = InstanceType<typeof OpenAI.ConflictError>;
export type UnprocessableEntityError = InstanceType<typeof OpenAI.UnprocessableEntityError>;
export type RateLimitError = InstanceType<typeof OpenAI.RateLimitError>;
export type InternalServerError = InstanceType<typeof OpenAI.InternalServerError>;
export type APIConnectionError = InstanceType<typeof OpenAI.APIConnectionError>;
export type APIConnectionTimeoutError = InstanceType<typeof OpenAI.APIConnectionTimeoutError>;
export type APIUserAbortError = InstanceType<typeof OpenAI.APIUserAbortError>;

/** The gateway's request id of a failed call (x-llmgw-request-id), for support and the ledger. */
export function gatewayRequestId(e: unknown): string | undefined {
  return e instanceof OpenAI.APIError ? (e.headers?.get("x-llmgw-request-id") ?? undefined) : undefined;
}
