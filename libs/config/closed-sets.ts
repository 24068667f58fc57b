// The closed sets the gateway is built around, each stated once. The config schema derives its enums
// from these; the proto mapping (libs/rpc/tier.ts), the provider adapter registry and the router's
// strategy table are records keyed by them, so a member added here fails to compile where it is not handled.

/** Provider wire protocols the executor has an adapter for (providers.*.type in config). */
export const PROVIDER_TYPES = ["openai", "anthropic"] as const;
export type ProviderType = (typeof PROVIDER_TYPES)[number];

/** Complexity tiers, cheapest first: the order the router escalates in. */
export const TIER_NAMES = ["LOW", "MEDIUM", "HIGH", "AGENTIC"] as const;
export type TierName = (typeof TIER_NAMES)[number];

/** How the router orders a tier's candidates (routing.strategy in config, or per request). */
export const STRATEGIES = ["cost", "quality", "latency"] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** A tenant's spend against its budget, as the ledger reports it and the router reads it (string fields on the wire). */
export const BUDGET_STATES = ["ok", "soft", "hard"] as const;
export type BudgetState = (typeof BUDGET_STATES)[number];

/**
 * Dimensions of the ledger's spend report (GET /v1/llmgw/spend?group_by=, `npm run report`). The
 * first six come from the daily rollup; the rest from the requests table (short windows: canary
 * arms, hours, cache outcomes by category, routing mix, escalations, provider errors).
 */
export const SPEND_GROUPS = ["tenant", "key", "model", "tier", "category", "day", "policy", "hour", "cache", "cache_category", "tier_model", "route_outcome", "provider_status"] as const;
export type SpendGroup = (typeof SPEND_GROUPS)[number];

/** True when `value` is a member of `set` (narrows a string from the wire to the set's type). */
export function isMember<T extends string>(set: readonly T[], value: string): value is T {
  return (set as readonly string[]).includes(value);
}

