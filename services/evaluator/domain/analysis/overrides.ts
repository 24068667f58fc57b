// Routing overrides: what the nightly analysis proposes and the router could apply, with the zod
// schema config and router validate them with, and the reviewable YAML patch that proposes them.
//
// An override reads: "for requests of `category` routed at `tier` (the tier the router's candidates
// come from, after session and budget adjustments) — and, when `instead_of` is set, only when the
// router's first candidate would be `instead_of` — put `use` first; the usual candidates follow as
// fallbacks". `use` still has to be capable (context, capabilities, breaker) for the request; when it
// is not, the override does not apply. At most one override per (category, tier, instead_of).
// Keys are snake_case like the rest of deploy/config/llmgw.yaml (routing.overrides).
import { Document, isMap, isSeq } from "yaml";
import { TIER_NAMES } from "#libs/config/closed-sets.ts";
import type { AnalysisReport, CellReport } from "./analyze.ts";
import { ceilTo, CORRECTION_LABEL, floorTo, fmtP, fmtPct, fmtUsd, round, sig3 } from "./format.ts";

export {
  overrideEvidenceSchema,
  overrideKey,
  routingOverrideSchema,
  routingOverridesSchema,
  type OverrideEvidence,
  type RoutingOverride,
  type RoutingOverrideInput,
} from "#libs/config/routing-overrides.ts";
import type { RoutingOverride } from "#libs/config/routing-overrides.ts";
import { overrideKey, routingOverrideSchema, routingOverridesSchema } from "#libs/config/routing-overrides.ts";

/** One sentence a reviewer can read: what was measured and what the test says. */
export function overrideReason(c: CellReport, report: Pick<AnalysisReport, "params">): string {
  const { params } = report;
  return (
    `${c.candidateModel} agreed with ${c.servedModel} on ${c.passes}/${c.n} shadow tests ` +
    `(${fmtPct(c.rate)}, ${fmtPct(params.confidence, 0)} CI ${fmtPct(c.ci[0])}-${fmtPct(c.ci[1])}); ` +
    `above ${fmtPct(1 - params.margin)} at ${CORRECTION_LABEL[params.correction]}-adjusted p = ${fmtP(c.pAdjusted ?? 1)} < ${params.alpha}`
  );
}

/** The overrides the report proposes (its inPatch cells), validated. */
export function overridesFromReport(report: AnalysisReport): RoutingOverride[] {
  const { params } = report;
  return report.cells
    .filter((c) => c.inPatch && c.pAdjusted !== null)
    .map((c) => {
      const pAdjusted = c.pAdjusted ?? 1;
      // Three significant digits, unless rounding would carry the shown value up to alpha.
      const shownP = sig3(pAdjusted) < params.alpha ? sig3(pAdjusted) : pAdjusted;
      return routingOverrideSchema.parse({
        category: c.category,
        tier: c.tier,
        instead_of: c.servedModel,
        use: c.candidateModel,
        reason: overrideReason(c, report),
        evidence: {
          n: c.n,
          passes: c.passes,
          rate: round(c.rate, 4),
          ci: [floorTo(c.ci[0], 4), ceilTo(c.ci[1], 4)],
          p_adjusted: shownP,
          margin: params.margin,
          correction: params.correction,
          generated_at: report.generatedAt,
        },
      });
    });
}

/**
 * The current overrides with the proposed ones applied: a proposal replaces the override with the
 * same (category, tier, instead_of), every other current override is kept. Sorted by category,
 * tier, instead_of so the diff against the config stays small.
 */
export function mergeOverrides(current: readonly RoutingOverride[], proposed: readonly RoutingOverride[]): RoutingOverride[] {
  const byKey = new Map<string, RoutingOverride>();
  for (const o of current) byKey.set(overrideKey(o), o);
  for (const o of proposed) byKey.set(overrideKey(o), o);
  return [...byKey.values()].sort(
    (a, b) =>
      a.category.localeCompare(b.category) || TIER_NAMES.indexOf(a.tier) - TIER_NAMES.indexOf(b.tier) || (a.instead_of ?? "").localeCompare(b.instead_of ?? ""),
  );
}

export interface PatchOptions {
  /** routing.overrides as the config has them now; kept unless a proposal replaces them. */
  current?: readonly RoutingOverride[];
  /** Where the patch goes, named in its header. */
  configPath?: string;
}

/**
 * The reviewable YAML patch: a `routing.overrides` list (the current overrides merged with the
 * proposals), a header saying where it came from and how to apply it, and a comment above each
 * item (what it saves, or that it is kept from the current config).
 */
export function overridesPatchYaml(report: AnalysisReport, opts: PatchOptions = {}): string {
  const proposed = overridesFromReport(report);
  const current = routingOverridesSchema.parse(opts.current ?? []);
  const merged = mergeOverrides(current, proposed);
  const cellByKey = new Map(report.cells.filter((c) => c.inPatch).map((c) => [overrideKey({ category: c.category, tier: c.tier, instead_of: c.servedModel }), c]));
  const { params, summary } = report;
  const doc = new Document({ routing: { overrides: merged } });
  doc.commentBefore = [
    ` Routing overrides proposed by the nightly shadow-test analysis of ${report.generatedAt}.`,
    ` ${summary.cells} cells (${summary.tests} shadow tests), ${summary.tested} tested, ${summary.overrides} proposed here:`,
    ` ${params.correction} at alpha ${params.alpha}, margin ${params.margin} (pass rate above ${fmtPct(1 - params.margin)}), min n ${params.minN}, ${params.test} test.`,
    ` Projected savings: ${fmtUsd(summary.projectedMonthlySavingsUsd)}/month on ${summary.monthlyRequests.toLocaleString("en-US")} requests/month (${fmtUsd(summary.currentMonthlyCostUsd)} today).`,
    ` Review, then replace routing.overrides in ${opts.configPath ?? "deploy/config/llmgw.yaml"} with this list.`,
    ` Each item: for requests of <category> routed at <tier> whose first candidate would be <instead_of>, try <use> first.`,
  ].join("\n");
  const seq = doc.getIn(["routing", "overrides"], true);
  if (isSeq(seq)) {
    seq.items.forEach((item, i) => {
      const o = merged[i];
      if (!o || !isMap(item)) return;
      const cell = cellByKey.get(overrideKey(o));
      item.commentBefore = cell
        ? ` new: ${o.category}/${o.tier} ${o.instead_of} -> ${o.use}, ${cell.projectedMonthlySavingsUsd === null ? "no ledger volume last month" : `saves ~${fmtUsd(cell.projectedMonthlySavingsUsd)}/month`}`
        : ` kept from the current config: ${o.category}/${o.tier} ${o.instead_of ?? "*"} -> ${o.use}`;
      const ci = doc.getIn(["routing", "overrides", i, "evidence", "ci"], true);
      if (isSeq(ci)) ci.flow = true;
    });
  }
  return doc.toString({ lineWidth: 0 });
}
