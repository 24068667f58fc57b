// Tier names in config and headers ("LOW") ↔ the proto enum (Tier.LOW).
import { Tier } from "#libs/gen/llmgw/common/v1/common_pb.ts";

export type TierName = "LOW" | "MEDIUM" | "HIGH" | "AGENTIC";

const TO_NAME: Record<Tier, TierName | ""> = {
  [Tier.UNSPECIFIED]: "",
  [Tier.LOW]: "LOW",
  [Tier.MEDIUM]: "MEDIUM",
  [Tier.HIGH]: "HIGH",
  [Tier.AGENTIC]: "AGENTIC",
};

const FROM_NAME: Record<TierName, Tier> = { LOW: Tier.LOW, MEDIUM: Tier.MEDIUM, HIGH: Tier.HIGH, AGENTIC: Tier.AGENTIC };

export function tierName(t: Tier): TierName | "" {
  return TO_NAME[t] ?? "";
}

export function tierFromName(name: string): Tier {
  return FROM_NAME[name as TierName] ?? Tier.UNSPECIFIED;
}

export const TIER_ORDER: readonly TierName[] = ["LOW", "MEDIUM", "HIGH", "AGENTIC"];
