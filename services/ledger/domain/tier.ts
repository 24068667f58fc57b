import { Tier } from "#libs/gen/llmgw/common/v1/common_pb.ts";

const NAMES: Record<Tier, string> = {
  [Tier.UNSPECIFIED]: "unspecified",
  [Tier.LOW]: "low",
  [Tier.MEDIUM]: "medium",
  [Tier.HIGH]: "high",
  [Tier.AGENTIC]: "agentic",
};

/** Tier enum → the lower-case name stored in the ledger. */
export function tierName(t: Tier): string {
  return NAMES[t] ?? "unspecified";
}

export function tierFromName(name: string): Tier {
  for (const [k, v] of Object.entries(NAMES)) if (v === name) return Number(k) as Tier;
  return Tier.UNSPECIFIED;
}
