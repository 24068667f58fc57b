// The nightly analysis (issue #8 item 3), pure part: shadow test verdicts + ledger volumes →
// per-cell decisions (non-inferiority, corrected for the whole sweep) → JSON report, Markdown report
// and a reviewable YAML patch of routing overrides.
export {
  analysisParamsSchema,
  analyzeShadowTests,
  compareCells,
  DECISIONS,
  testCells,
  type AnalysisInput,
  type AnalysisParams,
  type AnalysisParamsInput,
  type AnalysisReport,
  type AnalysisSummary,
  type CellCounts,
  type CellKey,
  type CellReport,
  type CellTest,
  type Decision,
  type MonthlyVolume,
  type ProjectedCost,
  type ShadowTestResult,
} from "./analyze.ts";
export { recommendationLine, renderMarkdown } from "./markdown.ts";
export { adjustPValues, benjaminiHochbergAdjust, CORRECTIONS, holmAdjust, type Correction } from "./multiplicity.ts";
export {
  mergeOverrides,
  overrideEvidenceSchema,
  overrideKey,
  overrideReason,
  overridesFromReport,
  overridesPatchYaml,
  routingOverrideSchema,
  routingOverridesSchema,
  type OverrideEvidence,
  type PatchOptions,
  type RoutingOverride,
  type RoutingOverrideInput,
} from "./overrides.ts";
