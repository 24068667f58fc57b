import { describe, expect, it } from "vitest";
import { GatewayError } from "#libs/errors/openai-error.ts";
import { cacheInvalidationBody, cacheInvalidationFilters } from "./cache-invalidation-input.ts";

describe("cacheInvalidationFilters", () => {
  it("reads a model and an age in seconds or as a duration", () => {
    expect(cacheInvalidationFilters({})).toEqual({ model: "", olderThanSeconds: 0n });
    expect(cacheInvalidationFilters({ model: "gpt-4o-mini", older_than: 90 })).toEqual({ model: "gpt-4o-mini", olderThanSeconds: 90n });
    expect(cacheInvalidationFilters({ older_than: "24h" }).olderThanSeconds).toBe(86_400n);
    expect(cacheInvalidationFilters({ older_than: "7d" }).olderThanSeconds).toBe(604_800n);
    expect(cacheInvalidationFilters({ older_than: "30m" }).olderThanSeconds).toBe(1800n);
  });

  it.each([
    [{ model: 3 }, "model"],
    [{ model: "" }, "model"],
    [{ older_than: -1 }, "older_than"],
    [{ older_than: 1.5 }, "older_than"],
    [{ older_than: "soon" }, "older_than"],
    [{ older_than: true }, "older_than"],
  ])("rejects %j as a 400 naming %s", (body, param) => {
    let err: unknown;
    try {
      cacheInvalidationFilters(body);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).status).toBe(400);
    expect((err as GatewayError).param).toBe(param);
  });
});

describe("cacheInvalidationBody", () => {
  it("takes no body or an object", () => {
    expect(cacheInvalidationBody(undefined)).toEqual({});
    expect(cacheInvalidationBody(null)).toEqual({});
    expect(cacheInvalidationBody({ tenant_id: "acme", model: "m" })).toEqual({ tenant_id: "acme", model: "m" });
  });

  it.each([
    [[1], null],
    ["acme", null],
    [5, null],
    [{ tenant_id: 5 }, "tenant_id"],
    [{ tenant_id: null }, "tenant_id"],
    [{ tenant_id: ["acme"] }, "tenant_id"],
  ])("rejects %j as a 400 naming %s", (body, param) => {
    let err: unknown;
    try {
      cacheInvalidationBody(body);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).status).toBe(400);
    expect((err as GatewayError).param).toBe(param);
  });
});
