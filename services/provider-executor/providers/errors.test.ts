import { describe, expect, it } from "vitest";
import { gatewayErrorFromFailure, parseRetryAfter, type ProviderFailure } from "./errors.ts";

const http = (status: number, over: Partial<Extract<ProviderFailure, { kind: "http" }>> = {}): ProviderFailure => ({
  kind: "http",
  status,
  message: "upstream says no",
  code: null,
  param: null,
  retryAfterSec: undefined,
  ...over,
});

describe("gatewayErrorFromFailure", () => {
  it.each([
    [http(400, { code: "context_length_exceeded", param: "messages" }), 400, "invalid_request_error", "context_length_exceeded"],
    [http(400, { message: "prompt is too long: 300000 tokens > 200000 maximum" }), 400, "invalid_request_error", "context_length_exceeded"],
    [http(400), 400, "invalid_request_error", null],
    [http(401), 502, "server_error", "upstream_auth_failed"],
    [http(403), 502, "server_error", "upstream_auth_failed"],
    [http(404), 502, "server_error", "upstream_model_not_found"],
    [http(429, { retryAfterSec: 3 }), 429, "rate_limit_error", "rate_limit_exceeded"],
    [http(429, { code: "insufficient_quota" }), 502, "server_error", "upstream_quota_exceeded"],
    [http(500), 502, "server_error", "upstream_error"],
    [http(502), 502, "server_error", "upstream_error"],
    [http(503), 503, "service_unavailable", "upstream_overloaded"],
    [http(529), 503, "service_unavailable", "upstream_overloaded"],
    [http(504), 504, "timeout_error", "timeout"],
    [{ kind: "timeout", message: "t" } as const, 504, "timeout_error", "timeout"],
    [{ kind: "connection", message: "ECONNREFUSED" } as const, 502, "server_error", "upstream_connection_error"],
  ])("%j → %d %s %s", (f, status, type, code) => {
    const e = gatewayErrorFromFailure(f, "prov");
    expect([e.status, e.type, e.code]).toEqual([status, type, code]);
  });

  it("keeps the provider message and param on 400 and retry-after on 429", () => {
    expect(gatewayErrorFromFailure(http(400, { param: "temperature" }), "p").toBody().error).toMatchObject({ message: "upstream says no", param: "temperature" });
    expect(gatewayErrorFromFailure(http(429, { retryAfterSec: 7 }), "p").retryAfterSec).toBe(7);
  });
});

describe("parseRetryAfter", () => {
  const h = (o: Record<string, string>) => new Headers(o);
  it.each([
    [h({}), undefined],
    [h({ "retry-after": "2" }), 2],
    [h({ "retry-after": "0.5" }), 0.5],
    [h({ "retry-after-ms": "1500", "retry-after": "9" }), 1.5],
    [h({ "retry-after": new Date(10_000 + 4_000).toUTCString() }), 4],
    [h({ "retry-after": "soon" }), undefined],
  ])("%j → %s", (headers, want) => expect(parseRetryAfter(headers, 10_000)).toBe(want));
});
