// Tier names in config and headers ("LOW") ↔ the proto enum on the wire (Tier.LOW). The names
// themselves are stated once, in libs/config/closed-sets.ts (TIER_NAMES, cheapest first).
import { Tier } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import { isMember, TIER_NAMES, type TierName } from "#libs/config/closed-sets.ts";

export { TIER_NAMES, type TierName } from "#libs/config/closed-sets.ts";

// Keyed by every name: a tier added to TIER_NAMES without a proto value fails to compile here.
const FROM_NAME: Record<TierName, Tier> = { LOW: Tier.LOW, MEDIUM: Tier.MEDIUM, HIGH: Tier.HIGH, AGENTIC: Tier.AGENTIC };

const TO_NAME = new Map<Tier, TierName>(TIER_NAMES.map((n) => [FROM_NAME[n], n]));

/** Proto enum → name; "" for UNSPECIFIED and unknown values. */
export function tierName(t: Tier): TierName | "" {
  return TO_NAME.get(t) ?? "";
}

/** Name → proto enum; UNSPECIFIED for anything that is not a tier name. */
export function tierFromName(name: string): Tier {
  return isMember(TIER_NAMES, name) ? FROM_NAME[name] : Tier.UNSPECIFIED;
}

