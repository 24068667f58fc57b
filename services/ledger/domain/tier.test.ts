import { describe, expect, it } from "vitest";
import { Tier } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import { tierName } from "./tier.ts";

describe("ledger tier names", () => {
  it.each([
    [Tier.UNSPECIFIED, "unspecified"],
    [Tier.LOW, "low"],
    [Tier.MEDIUM, "medium"],
    [Tier.HIGH, "high"],
    [Tier.AGENTIC, "agentic"],
  ])("%s → %s", (t, want) => expect(tierName(t)).toBe(want));
});
