import { describe, expect, it } from "vitest";
import { Tier } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import { TIER_NAMES, tierFromName, tierName } from "./tier.ts";

describe("tier names ↔ proto enum", () => {
  it("round-trips every name, cheapest first", () => {
    expect(TIER_NAMES).toEqual(["LOW", "MEDIUM", "HIGH", "AGENTIC"]);
    for (const n of TIER_NAMES) expect(tierName(tierFromName(n))).toBe(n);
  });
  it("names every proto value but UNSPECIFIED", () => {
    const values = Object.values(Tier).filter((v): v is Tier => typeof v === "number");
    for (const v of values) expect(tierName(v) === "").toBe(v === Tier.UNSPECIFIED);
  });
  it("maps anything else to UNSPECIFIED / empty", () => {
    expect(tierFromName("low")).toBe(Tier.UNSPECIFIED);
    expect(tierFromName("toString")).toBe(Tier.UNSPECIFIED);
    expect(tierFromName("")).toBe(Tier.UNSPECIFIED);
    expect(tierName(99 as Tier)).toBe("");
  });
});
