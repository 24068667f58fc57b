import { describe, expect, it } from "vitest";
import { PROVIDER_TYPES } from "#libs/config/closed-sets.ts";
import { ADAPTERS } from "./factory.ts";

describe("adapter registry", () => {
  it("has exactly one adapter per provider type the config accepts", () => {
    expect(Object.keys(ADAPTERS).sort()).toEqual([...PROVIDER_TYPES].sort());
  });
});
