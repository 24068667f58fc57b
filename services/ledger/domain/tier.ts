// The ledger stores tiers as lower-case names; the names come from libs/rpc/tier.ts.
import type { Tier } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import { tierName as upperName } from "#libs/rpc/tier.ts";

/** Tier enum → the lower-case name stored in the ledger ("unspecified" for UNSPECIFIED and unknown values). */
export function tierName(t: Tier): string {
  return upperName(t).toLowerCase() || "unspecified";
}
