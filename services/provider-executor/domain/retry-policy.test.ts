import { describe, expect, it } from "vitest";
import { GatewayError, errors } from "#libs/errors/openai-error.ts";
import { classifyFailure, retryDelayMs } from "./retry-policy.ts";

const e502 = (code: string) => new GatewayError({ status: 502, type: "server_error", code, message: "x" });

describe("classifyFailure", () => {
  it.each([
    ["429", errors.rateLimited("x", 1), { retry: true, fallback: true, breaker: true }],
    ["503", errors.unavailable("x"), { retry: true, fallback: true, breaker: true }],
    ["504", errors.timeout("x"), { retry: true, fallback: true, breaker: true }],
    ["502 upstream_error", e502("upstream_error"), { retry: true, fallback: true, breaker: true }],
    ["502 connection", e502("upstream_connection_error"), { retry: true, fallback: true, breaker: true }],
    ["502 auth", e502("upstream_auth_failed"), { retry: false, fallback: true, breaker: true }],
    ["502 model not found", e502("upstream_model_not_found"), { retry: false, fallback: true, breaker: true }],
    ["400 context", errors.badRequest("x", null, "context_length_exceeded"), { retry: false, fallback: true, breaker: false }],
    ["400 other", errors.badRequest("x"), { retry: false, fallback: false, breaker: false }],
    ["500 internal", errors.internal(), { retry: false, fallback: false, breaker: false }],
  ])("%s", (_n, err, want) => expect(classifyFailure(err)).toEqual(want));
});

describe("retryDelayMs", () => {
  const o = { baseDelayMs: 100, maxDelayMs: 1_000, maxRetryAfterMs: 5_000 };
  it.each([
    [0, undefined, 0.999, 99], // full jitter below the base
    [1, undefined, 0.999, 199],
    [5, undefined, 0.999, 999], // capped
    [0, undefined, 0, 0],
    [0, 2, 0.5, 2_000], // Retry-After is a floor
    [3, 0.1, 0.99, 792], // jitter above Retry-After wins
    [0, 6, 0, null], // too long to wait: fall back instead
  ])("retry %d, retry-after %s, rand %s → %s", (retry, ra, rand, want) => {
    expect(retryDelayMs(retry, ra, o, () => rand)).toBe(want);
  });
});
