import { describe, expect, it } from "vitest";
import { errors, GatewayError } from "#libs/errors/openai-error.ts";
import { anthropicErrorOfBody, toAnthropicError } from "./errors.ts";

describe("toAnthropicError", () => {
  it.each([
    [errors.badRequest("bad"), 400, "invalid_request_error"],
    [errors.unauthorized(), 401, "authentication_error"],
    [errors.forbidden("no"), 403, "permission_error"],
    [errors.modelNotFound("x"), 404, "not_found_error"],
    [errors.tooLarge(10), 413, "request_too_large"],
    [errors.rateLimited("slow down", 2), 429, "rate_limit_error"],
    [errors.quotaExceeded("budget"), 429, "rate_limit_error"],
    [errors.internal(), 500, "api_error"],
    [errors.badGateway("upstream"), 502, "api_error"],
    [errors.unavailable("busy"), 529, "overloaded_error"],
    [errors.timeout("slow"), 504, "timeout_error"],
    [new GatewayError({ status: 415, message: "json only", type: "invalid_request_error" }), 415, "invalid_request_error"],
  ])("%s → %i %s", (e, status, type) => {
    const r = toAnthropicError(e);
    expect(r.status).toBe(status);
    expect(r.body).toEqual({ type: "error", error: { type, message: e.message } });
  });

  it("maps an in-stream OpenAI error body by its type", () => {
    expect(anthropicErrorOfBody({ error: { message: "m", type: "service_unavailable", param: null, code: null } }).error.type).toBe("overloaded_error");
    expect(anthropicErrorOfBody({ error: { message: "m", type: "server_error", param: null, code: null } }).error.type).toBe("api_error");
  });
});
