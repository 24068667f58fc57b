// Routing overrides: "for requests of `category` routed at `tier` — and, when `instead_of` is set, only
// when the router's first candidate would be `instead_of` — put `use` first; the usual candidates
// follow as fallbacks". The nightly analysis proposes them with their evidence (npm run analyze);
// config validates them (routing.overrides) and the router applies them. `use` still has to be capable
// for the request (context, capabilities, breaker), else the override does not apply.
import { z } from "zod";
import { TIER_NAMES } from "./closed-sets.ts";

/** Multiple-comparison corrections the analysis may use. */
export const CORRECTIONS = ["holm", "bh"] as const;

const unit = z.number().min(0).max(1);

export const overrideEvidenceSchema = z
  .object({
    /** Shadow tests of the cell, and how many the candidate passed. */
    n: z.number().int().positive(),
    passes: z.number().int().nonnegative(),
    rate: unit,
    /** Two-sided Wilson interval of the pass rate (at the analysis' confidence). */
    ci: z.tuple([unit, unit]),
    /** Non-inferiority p-value adjusted over the night's family of cells. */
    p_adjusted: unit,
    /** δ: the pass rate was shown to be above 1 − δ. */
    margin: z.number().gt(0).lt(1),
    correction: z.enum(CORRECTIONS),
    /** When the analysis ran (ISO 8601). */
    generated_at: z.string().min(1),
  })
  .strict()
  .refine((e) => e.passes <= e.n, { message: "passes must not exceed n", path: ["passes"] })
  .refine((e) => e.ci[0] <= e.ci[1], { message: "ci must be [low, high]", path: ["ci"] });
export type OverrideEvidence = z.infer<typeof overrideEvidenceSchema>;

export const routingOverrideSchema = z
  .object({
    category: z.string().min(1),
    tier: z.enum(TIER_NAMES),
    /** Apply only when the router would otherwise serve this model first; absent = whatever it would serve. */
    instead_of: z.string().min(1).optional(),
    /** The model to put first. */
    use: z.string().min(1),
    reason: z.string().default(""),
    evidence: overrideEvidenceSchema.optional(),
  })
  .strict()
  .refine((o) => o.use !== o.instead_of, { message: "use and instead_of name the same model", path: ["use"] });
export type RoutingOverride = z.infer<typeof routingOverrideSchema>;
export type RoutingOverrideInput = z.input<typeof routingOverrideSchema>;

/** The identity of an override: one per (category, tier, instead_of). */
export function overrideKey(o: Pick<RoutingOverride, "category" | "tier" | "instead_of">): string {
  return [o.category, o.tier, o.instead_of ?? "*"].join("\u0000");
}

/** routing.overrides: a list with at most one override per (category, tier, instead_of). */
export const routingOverridesSchema = z.array(routingOverrideSchema).superRefine((list, ctx) => {
  const seen = new Map<string, number>();
  list.forEach((o, i) => {
    const k = overrideKey(o);
    const first = seen.get(k);
    if (first !== undefined) ctx.addIssue({ code: "custom", path: [i], message: `duplicate override for ${o.category}/${o.tier}/${o.instead_of ?? "*"} (first at ${first})` });
    else seen.set(k, i);
  });
});

