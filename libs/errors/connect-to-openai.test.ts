import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { CONNECT_TO_OPENAI, connectToOpenAI, ERROR_METADATA, serviceError, toOpenAIError } from "./connect-to-openai.ts";
import { errors, GatewayError } from "./openai-error.ts";

const SECRET = "pg: relation \"api_keys\" at 10.0.0.7:5432 does not exist";

// [code, status, type, code, Retry-After]
const TABLE: [Code, number, string, string, number | undefined][] = [
  [Code.Canceled, 499, "invalid_request_error", "request_canceled", undefined],
  [Code.Unknown, 500, "server_error", "internal_error", undefined],
  [Code.InvalidArgument, 400, "invalid_request_error", "invalid_argument", undefined],
  [Code.DeadlineExceeded, 504, "timeout_error", "timeout", undefined],
  [Code.NotFound, 404, "not_found_error", "not_found", undefined],
  [Code.AlreadyExists, 409, "invalid_request_error", "already_exists", undefined],
  [Code.PermissionDenied, 403, "permission_error", "forbidden", undefined],
  [Code.ResourceExhausted, 429, "rate_limit_error", "rate_limit_exceeded", 1],
  [Code.FailedPrecondition, 400, "invalid_request_error", "failed_precondition", undefined],
  [Code.Aborted, 409, "invalid_request_error", "aborted", undefined],
  [Code.OutOfRange, 400, "invalid_request_error", "out_of_range", undefined],
  [Code.Unimplemented, 501, "server_error", "not_implemented", undefined],
  [Code.Internal, 500, "server_error", "internal_error", undefined],
  [Code.Unavailable, 503, "service_unavailable", "service_unavailable", 1],
  [Code.DataLoss, 500, "server_error", "internal_error", undefined],
  [Code.Unauthenticated, 401, "authentication_error", "invalid_api_key", undefined],
];

const allCodes = Object.values(Code).filter((v): v is Code => typeof v === "number");

describe("connectToOpenAI", () => {
  it("the table covers every Connect code, and this test covers the table", () => {
    expect(Object.keys(CONNECT_TO_OPENAI).map(Number).sort((a, b) => a - b)).toEqual([...allCodes].sort((a, b) => a - b));
    expect(TABLE.map((r) => r[0]).sort((a, b) => a - b)).toEqual([...allCodes].sort((a, b) => a - b));
  });

  it.each(TABLE)("Code %s → %i %s/%s", (code, status, type, oaCode, retryAfter) => {
    const ge = connectToOpenAI(new ConnectError(status < 500 ? "bad x" : SECRET, code));
    expect(ge).toBeInstanceOf(GatewayError);
    expect(ge.status).toBe(status);
    expect(ge.retryAfterSec).toBe(retryAfter);
    const body = ge.toBody();
    expect(body).toEqual({ error: { message: expect.any(String), type, param: null, code: oaCode } });
    if (status < 500) {
      // A 4xx is about the caller's input: the service's own words, without Connect's "[code]" prefix.
      expect(body.error.message).toBe("bad x");
    } else {
      expect(body.error.message).not.toContain("pg:");
      expect(body.error.message).not.toContain("10.0.0.7");
    }
  });

  it("a 4xx without a message gets the table's", () => {
    expect(connectToOpenAI(new ConnectError("", Code.NotFound)).message).toBe("Not found.");
  });

  it("ResourceExhausted is insufficient_quota when the service says so (no Retry-After), else rate_limit", () => {
    const quota = connectToOpenAI(serviceError("hard budget limit reached (tenant/day)", Code.ResourceExhausted, { type: "insufficient_quota" }));
    expect(quota.status).toBe(429);
    expect(quota.toBody().error).toEqual({ message: "hard budget limit reached (tenant/day)", type: "insufficient_quota", param: null, code: "insufficient_quota" });
    expect(quota.retryAfterSec).toBeUndefined();

    const rate = connectToOpenAI(serviceError("slow down", Code.ResourceExhausted, { retryAfterSec: 7 }));
    expect(rate.toBody().error.type).toBe("rate_limit_error");
    expect(rate.retryAfterSec).toBe(7);
  });

  it("a service can name the param and code of a 4xx; unknown types are ignored", () => {
    const ge = connectToOpenAI(serviceError("since must be an ISO-8601 time", Code.InvalidArgument, { param: "since", code: "invalid_since" }));
    expect(ge.toBody().error).toEqual({ message: "since must be an ISO-8601 time", type: "invalid_request_error", param: "since", code: "invalid_since" });
    const odd = connectToOpenAI(new ConnectError("x", Code.InvalidArgument, { [ERROR_METADATA.type]: "made_up" }));
    expect(odd.type).toBe("invalid_request_error");
  });

  it("a 5xx ignores the service's fields except Retry-After", () => {
    const ge = connectToOpenAI(serviceError(SECRET, Code.Unavailable, { type: "invalid_request_error", param: "p", code: "c", retryAfterSec: 5 }));
    expect(ge.toBody().error).toEqual({ message: "A gateway service is unavailable; try again.", type: "service_unavailable", param: null, code: "service_unavailable" });
    expect(ge.retryAfterSec).toBe(5);
    const internal = connectToOpenAI(serviceError(SECRET, Code.Internal, { retryAfterSec: 5 }));
    expect(internal.retryAfterSec).toBeUndefined();
  });

  it("keeps the Connect error as the cause, for logs", () => {
    const ce = new ConnectError(SECRET, Code.Internal);
    expect(connectToOpenAI(ce).cause).toBe(ce);
  });
});

describe("toOpenAIError", () => {
  it("GatewayErrors pass, Connect errors map, anything else is a safe 500", () => {
    const ge = errors.badRequest("nope", "model");
    expect(toOpenAIError(ge)).toBe(ge);
    expect(toOpenAIError(new ConnectError("bad x", Code.InvalidArgument)).status).toBe(400);
    const other = toOpenAIError(new TypeError(SECRET));
    expect(other.status).toBe(500);
    expect(other.message).not.toContain("pg:");
  });
});
