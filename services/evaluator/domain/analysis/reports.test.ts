// The Markdown report and the YAML patch, checked by content (no snapshots): the YAML is parsed
// back and validated with the override schema, the Markdown table is read row by row.
import { parse, parseDocument } from "yaml";
import { describe, expect, it } from "vitest";
import { analyzeShadowTests, type AnalysisReport } from "./analyze.ts";
import { renderMarkdown } from "./markdown.ts";
import { mergeOverrides, overridesFromReport, overridesPatchYaml, routingOverrideSchema, routingOverridesSchema, type RoutingOverride } from "./overrides.ts";
import { cell, NOW, projectedCost, tests, volume } from "./fixtures.test-helpers.ts";

const math = cell("math");
const code = cell("code", "MEDIUM", "claude-3-5-haiku-latest", "gpt-4o-mini");
const law = cell("law|tax");
const chat = cell("chat");
const tiny = cell("tiny");
const haiku = cell("math", "HIGH", "gpt-4o", "claude-3-5-haiku-latest");

function night(): AnalysisReport {
  return analyzeShadowTests({
    results: [
      ...tests(math, 500, 497, { servedCostUsd: "0.01", candidateCostUsd: "0.0006" }),
      ...tests(haiku, 200, 199),
      ...tests(code, 300, 298),
      ...tests(law, 120, 100),
      ...tests(chat, 300, 300),
      ...tests(tiny, 12, 12),
    ],
    volumes: [volume(math, 100_000, "1000"), volume(code, 20_000, "40"), volume(law, 5_000, "50"), volume(tiny, 10, "0.1")],
    projectedCost,
    generatedAt: NOW,
  });
}

interface PatchFile {
  routing: { overrides: unknown[] };
}

describe("the YAML patch", () => {
  const report = night();
  const text = overridesPatchYaml(report);
  const parsed = parse(text) as PatchFile;

  it("parses back into routing.overrides that the override schema accepts", () => {
    const list = routingOverridesSchema.parse(parsed.routing.overrides);
    // math (gpt-4o → gpt-4o-mini, not haiku: it saves more), code, chat (no volume: savings unknown, still proposed).
    expect(list.map((o) => `${o.category}/${o.tier}/${o.instead_of}->${o.use}`)).toEqual(["chat/HIGH/gpt-4o->gpt-4o-mini", "code/MEDIUM/claude-3-5-haiku-latest->gpt-4o-mini", "math/HIGH/gpt-4o->gpt-4o-mini"]);
  });

  it("carries the evidence of each cell", () => {
    const m = routingOverridesSchema.parse(parsed.routing.overrides).find((o) => o.category === "math");
    const c = report.cells.find((x) => x.category === "math" && x.candidateModel === "gpt-4o-mini");
    expect(m?.evidence).toMatchObject({ n: 500, passes: 497, margin: 0.1, correction: "holm", generated_at: "2025-07-01T03:00:00.000Z" });
    expect(m?.evidence?.rate).toBeCloseTo(0.994, 4);
    // Written to 4 decimals, outward: never narrower than the interval computed.
    const [lo, hi] = m?.evidence?.ci ?? [NaN, NaN];
    const [clo, chi] = c?.ci ?? [NaN, NaN];
    expect(lo).toBeLessThanOrEqual(clo);
    expect(lo).toBeGreaterThan(clo - 1e-4);
    expect(hi).toBeGreaterThanOrEqual(chi);
    expect(hi).toBeLessThan(chi + 1e-4);
    expect(m?.evidence?.p_adjusted).toBeLessThan(0.05);
    expect(m?.evidence?.p_adjusted).toBeCloseTo(c?.pAdjusted ?? NaN, 10);
    expect(m?.reason).toContain("gpt-4o-mini agreed with gpt-4o on 497/500 shadow tests (99.4%");
  });

  it("is reviewable: a header with the parameters and savings, a comment per item, the CI on one line", () => {
    const doc = parseDocument(text);
    expect(doc.commentBefore).toContain("nightly shadow-test analysis of 2025-07-01T03:00:00.000Z");
    expect(doc.commentBefore).toContain("holm at alpha 0.05, margin 0.1");
    expect(doc.commentBefore).toContain(`Projected savings: $${report.summary.projectedMonthlySavingsUsd.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}/month`);
    expect(text).toMatch(/# new: math\/HIGH gpt-4o -> gpt-4o-mini, saves ~\$940\.00\/month/);
    expect(text).toMatch(/# new: chat\/HIGH gpt-4o -> gpt-4o-mini, no ledger volume last month/);
    expect(text).toMatch(/ci: \[ 0\.\d+, 0\.\d+ \]/);
  });

  it("keeps current overrides it does not replace and replaces the one it re-proposes", () => {
    const current: RoutingOverride[] = routingOverridesSchema.parse([
      { category: "math", tier: "HIGH", instead_of: "gpt-4o", use: "claude-3-5-haiku-latest", reason: "old" },
      { category: "translation", tier: "MEDIUM", use: "gpt-4.1-nano" },
    ]);
    const merged = routingOverridesSchema.parse((parse(overridesPatchYaml(report, { current })) as PatchFile).routing.overrides);
    expect(merged.find((o) => o.category === "math")?.use).toBe("gpt-4o-mini");
    expect(merged.find((o) => o.category === "translation")).toEqual({ category: "translation", tier: "MEDIUM", use: "gpt-4.1-nano", reason: "" });
    expect(merged).toHaveLength(4);
    expect(overridesPatchYaml(report, { current })).toContain("# kept from the current config: translation/MEDIUM * -> gpt-4.1-nano");
    expect(mergeOverrides(current, [])).toEqual([current[0], current[1]]);
  });

  it("an empty night gives an empty list", () => {
    const empty = analyzeShadowTests({ results: [], volumes: [], projectedCost, generatedAt: NOW });
    expect((parse(overridesPatchYaml(empty)) as PatchFile).routing.overrides).toEqual([]);
    expect(overridesFromReport(empty)).toEqual([]);
  });
});

describe("the override schema", () => {
  const ok = { category: "math", tier: "HIGH", instead_of: "gpt-4o", use: "gpt-4o-mini" };
  it.each([
    { name: "minimal, reason defaulted", input: { category: "math", tier: "LOW", use: "small-8k" }, valid: true },
    { name: "with instead_of", input: ok, valid: true },
    { name: "unknown tier", input: { ...ok, tier: "HUGE" }, valid: false },
    { name: "unknown key", input: { ...ok, model: "x" }, valid: false },
    { name: "use = instead_of", input: { ...ok, use: "gpt-4o" }, valid: false },
    { name: "empty category", input: { ...ok, category: "" }, valid: false },
    { name: "passes > n", input: { ...ok, evidence: { n: 3, passes: 4, rate: 1, ci: [0.5, 1], p_adjusted: 0.01, margin: 0.1, correction: "holm", generated_at: "x" } }, valid: false },
    { name: "ci upside down", input: { ...ok, evidence: { n: 3, passes: 3, rate: 1, ci: [1, 0.5], p_adjusted: 0.01, margin: 0.1, correction: "holm", generated_at: "x" } }, valid: false },
    { name: "unknown correction", input: { ...ok, evidence: { n: 3, passes: 3, rate: 1, ci: [0.5, 1], p_adjusted: 0.01, margin: 0.1, correction: "bonferroni", generated_at: "x" } }, valid: false },
  ])("$name → valid: $valid", ({ input, valid }) => {
    expect(routingOverrideSchema.safeParse(input).success).toBe(valid);
  });

  it("a list refuses two overrides for the same (category, tier, instead_of)", () => {
    expect(routingOverridesSchema.safeParse([ok, { ...ok, use: "claude-3-5-haiku-latest" }]).success).toBe(false);
    expect(routingOverridesSchema.safeParse([ok, { ...ok, instead_of: "claude-sonnet-4-5" }]).success).toBe(true);
    expect(routingOverridesSchema.safeParse([{ ...ok, instead_of: undefined }, { ...ok, instead_of: undefined, use: "x" }]).success).toBe(false);
  });
});

describe("the Markdown report", () => {
  const report = night();
  const md = renderMarkdown(report);
  const rows = md
    .split("\n")
    .filter((l) => l.startsWith("| ") && !l.startsWith("| decision"))
    .map((l) =>
      l
        .slice(2, -2)
        .split(/(?<!\\) \| /)
        .map((c) => c.trim()),
    );

  it("has one table row per cell, sorted by decision then savings", () => {
    expect(rows).toHaveLength(report.cells.length);
    expect(rows.map((r) => `${r[0]}:${r[1]}:${r[3]}`)).toEqual([
      "**downgrade**:math:gpt-4o → gpt-4o-mini",
      "downgrade (not proposed):math:gpt-4o → claude-3-5-haiku-latest",
      "**downgrade**:code:claude-3-5-haiku-latest → gpt-4o-mini",
      "**downgrade**:chat:gpt-4o → gpt-4o-mini",
      "keep:law\\|tax:gpt-4o → gpt-4o-mini",
      "insufficient data:tiny:gpt-4o → gpt-4o-mini",
    ]);
  });

  it("shows counts, rate, CI, p, adjusted p and savings in each row", () => {
    const m = rows[0] ?? [];
    expect(m.slice(4, 7)).toEqual(["500", "497", "99.4%"]);
    expect(m[7]).toMatch(/^\d+\.\d%–\d+\.\d%$/);
    expect(m[10]).toBe("$940.00");
    expect(rows[5]?.[9]).toBe("–"); // insufficient: no adjusted p
    expect(rows[3]?.[10]).toBe("no volume");
  });

  it("has a plain-language line per recommended cell and the totals", () => {
    const lines = md.split("\n").filter((l) => l.startsWith("- "));
    expect(lines).toHaveLength(report.summary.downgrade);
    expect(lines[0]).toBe(
      "- **math** at HIGH: serve gpt-4o-mini instead of gpt-4o. It agreed with gpt-4o on 497 of 500 shadow tests (99.4%, 95% CI 98.3%–99.8%), " +
        "more than 90.0% at Holm-adjusted p = 1.98e-18; saves about $940.00/month on 100,000 requests that cost $1,000.00 (in the shadow tests it cost 6% of gpt-4o).",
    );
    expect(lines[1]).toContain("not proposed: superseded by gpt-4o-mini");
    expect(lines[3]).toContain("the ledger had no volume for it last month");
    expect(md).toContain("**4 downgrades recommended**, 1 keep, 1 insufficient data; 3 proposed as routing overrides.");
    expect(md).toContain("Projected savings if the 3 proposed overrides are applied: **$968.00/month** on 120,000 requests/month that cost $1,040.00 today.");
  });

  it("says so when nothing is recommended, and names BH when it is the correction", () => {
    const r = analyzeShadowTests({ results: tests(law, 100, 50), volumes: [], projectedCost, generatedAt: NOW, params: { correction: "bh" } });
    const text = renderMarkdown(r);
    expect(text).toContain("No downgrade is recommended");
    expect(text).toContain("Benjamini–Hochberg (false discovery rate) at α = 0.05");
    expect(text).toContain("| p (BH) |");
    expect(text).toContain("**$0.00/month**");
  });
});
