import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { RateLimitStatusSchema } from "#libs/gen/llmgw/ledger/v1/ledger_pb.ts";
import { rateLimitError, rateLimitHeaders, resetDuration } from "./rate-limit-headers.ts";

describe("x-ratelimit-* headers", () => {
  it.each([
    [0, "0ms"],
    [17, "17ms"],
    [999.2, "1s"],
    [1000, "1s"],
    [8_640, "8.64s"],
    [60_000, "1m0s"],
    [360_000, "6m0s"],
    [3_723_500, "1h2m3.5s"],
  ])("reset %s ms is %s (OpenAI's duration format)", (ms, text) => {
    expect(resetDuration(ms)).toBe(text);
  });

  it("names only the kinds a limit applies to", () => {
    expect(rateLimitHeaders(undefined)).toEqual({});
    const s = create(RateLimitStatusSchema, { limitRequests: 60n, remainingRequests: 59n, resetRequestsMs: 1000n });
    expect(rateLimitHeaders(s)).toEqual({ "x-ratelimit-limit-requests": "60", "x-ratelimit-remaining-requests": "59", "x-ratelimit-reset-requests": "1s" });
    const t = create(RateLimitStatusSchema, { limitTokens: 150_000n, remainingTokens: 149_984n, resetTokensMs: 6n });
    expect(rateLimitHeaders(t)).toEqual({ "x-ratelimit-limit-tokens": "150000", "x-ratelimit-remaining-tokens": "149984", "x-ratelimit-reset-tokens": "6ms" });
  });

  it("a refusal is a 429 rate_limit_error that says when to retry", () => {
    const e = rateLimitError("Rate limit reached for this key (requests per minute). Try again in 13 s.", create(RateLimitStatusSchema, { limitRequests: 5n, resetRequestsMs: 60_000n, retryAfterMs: 12_001n }));
    expect(e.status).toBe(429);
    expect(e.toBody().error).toMatchObject({ type: "rate_limit_error", code: "rate_limit_exceeded" });
    expect(e.retryAfterSec).toBe(13);
    expect(e.headers).toMatchObject({ "retry-after-ms": "12001", "x-ratelimit-limit-requests": "5", "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "1m0s" });
  });
});
