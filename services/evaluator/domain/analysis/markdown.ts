// The Markdown report of a nightly analysis: parameters, the recommendations in plain language,
// every cell in one table (sorted by decision, then savings) and the totals.
import type { AnalysisReport, CellReport } from "./analyze.ts";
import { CORRECTION_LABEL, fmtP, fmtPct, fmtUsd } from "./format.ts";

const CORRECTION_NAME = { holm: "Holm (family-wise error rate)", bh: "Benjamini–Hochberg (false discovery rate)" } as const;
const TEST_NAME = { exact: "exact binomial tail", score: "score test (normal approximation, the Wilson interval's test)" } as const;

/** Text safe inside a Markdown table cell. */
function cellText(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

const int = (x: number): string => x.toLocaleString("en-US");

/** One sentence per recommended cell. */
export function recommendationLine(c: CellReport, report: AnalysisReport): string {
  const { params } = report;
  const savings =
    c.projectedMonthlySavingsUsd === null
      ? "the ledger had no volume for it last month"
      : `saves about ${fmtUsd(c.projectedMonthlySavingsUsd)}/month on ${int(c.monthlyRequests ?? 0)} requests that cost ${fmtUsd(c.servedMonthlyCostUsd ?? 0)}`;
  const ratio = c.observedCostRatio === null ? "" : ` (in the shadow tests it cost ${fmtPct(c.observedCostRatio, 0)} of ${c.servedModel})`;
  const head = `**${cellText(c.category)}** at ${c.tier}: serve ${c.candidateModel} instead of ${c.servedModel}.`;
  const evidence =
    ` It agreed with ${c.servedModel} on ${int(c.passes)} of ${int(c.n)} shadow tests (${fmtPct(c.rate)}, ${fmtPct(params.confidence, 0)} CI ${fmtPct(c.ci[0])}–${fmtPct(c.ci[1])}), ` +
    `more than ${fmtPct(1 - params.margin)} at ${CORRECTION_LABEL[params.correction]}-adjusted p = ${fmtP(c.pAdjusted ?? 1)}`;
  if (!c.inPatch) return `${head}${evidence}; not proposed: ${c.note}.`;
  return `${head}${evidence}; ${savings}${ratio}.`;
}

export function renderMarkdown(report: AnalysisReport): string {
  const { params, summary } = report;
  const out: string[] = [];
  out.push(`# Nightly shadow-test analysis, ${report.generatedAt}`, "");
  out.push(
    `Parameters: ${CORRECTION_NAME[params.correction]} at α = ${params.alpha}; margin δ = ${params.margin} ` +
      `(the candidate must agree with the served answer more than ${fmtPct(1 - params.margin)} of the time); ` +
      `minimum n = ${params.minN} per cell; ${TEST_NAME[params.test]}; ${fmtPct(params.confidence, 0)} Wilson intervals.`,
  );
  const window = summary.window ? `${summary.window.from} to ${summary.window.to}` : "no tests";
  out.push(`Tests: ${int(summary.tests)} shadow tests (${window}), tenant ${summary.tenantId ?? "all"}; ${summary.cells} cells, ${summary.tested} with enough data to test.`, "");
  out.push(
    `**${summary.downgrade} downgrade${summary.downgrade === 1 ? "" : "s"} recommended**, ${summary.keep} keep, ${summary.insufficient} insufficient data; ` +
      `${summary.overrides} proposed as routing overrides.`,
    "",
  );

  out.push("## Recommendations", "");
  const recommended = report.cells.filter((c) => c.decision === "downgrade");
  if (recommended.length === 0) out.push("No downgrade is recommended: no cell's pass rate is shown to be above the margin after the correction.");
  for (const c of recommended) out.push(`- ${recommendationLine(c, report)}`);
  out.push("");

  out.push("## All cells", "");
  out.push(`| decision | category | tier | served → candidate | n | passes | rate | ${fmtPct(params.confidence, 0)} CI | p | p (${CORRECTION_LABEL[params.correction]}) | monthly savings if downgraded |`);
  out.push("|---|---|---|---|---:|---:|---:|---|---:|---:|---:|");
  for (const c of report.cells) {
    const decision = c.decision === "downgrade" ? (c.inPatch ? "**downgrade**" : "downgrade (not proposed)") : c.decision === "insufficient" ? "insufficient data" : "keep";
    const savings = c.potentialMonthlySavingsUsd === null ? "no volume" : fmtUsd(c.potentialMonthlySavingsUsd);
    out.push(
      `| ${decision} | ${cellText(c.category)} | ${c.tier} | ${cellText(c.servedModel)} → ${cellText(c.candidateModel)} | ${int(c.n)} | ${int(c.passes)} | ${fmtPct(c.rate)} | ` +
        `${fmtPct(c.ci[0])}–${fmtPct(c.ci[1])} | ${fmtP(c.p)} | ${c.pAdjusted === null ? "–" : fmtP(c.pAdjusted)} | ${savings} |`,
    );
  }
  out.push("");

  out.push("## Totals", "");
  out.push(
    `Projected savings if the ${summary.overrides} proposed override${summary.overrides === 1 ? "" : "s"} ${summary.overrides === 1 ? "is" : "are"} applied: ` +
      `**${fmtUsd(summary.projectedMonthlySavingsUsd)}/month** on ${int(summary.monthlyRequests)} requests/month that cost ${fmtUsd(summary.currentMonthlyCostUsd)} today.`,
    "",
  );
  return out.join("\n");
}
