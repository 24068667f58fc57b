import { describe, expect, it } from "vitest";
import { GatewayError } from "#libs/errors/openai-error.ts";
import { parseLimits } from "./routes-rate-limits.ts";

describe("parseLimits", () => {
  it("reads whole numbers and nulls", () => {
    expect(parseLimits({ requests_per_minute: 600, tokens_per_day: null })).toEqual({ requestsPerMinute: 600n });
  });

  // Names every object inherits: read with `in`, they were taken for limits and cleared all of them.
  it.each(["toString", "constructor", "__proto__", "hasOwnProperty", "valueOf"])("rejects '%s' as an unknown limit", (name) => {
    let err: unknown;
    try {
      parseLimits(JSON.parse(`{"${name}": 1}`));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).status).toBe(400);
    expect((err as GatewayError).message).toMatch(/^Unknown limit/);
    expect((err as GatewayError).param).toBe(name);
  });
});
