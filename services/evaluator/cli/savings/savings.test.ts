// Pure parts of the savings replay: the side mapping from configuration, the reference lines, the attribution of a
// served answer, the request plan and the report's shape. Inline rows only (no benchmark files).
import { describe, expect, it } from "vitest";
import { loadConfig } from "#libs/config/load.ts";
import { loadPriceTable, PriceTable } from "#libs/pricing/index.ts";
import { answerText, buildReplay, choiceLetters, parseReplayJsonl, type ReplayRow } from "#libs/simulator/replay.ts";
import { attributeServed } from "./attribution.ts";
import { learnConfig, parseShadowTiers, resultsFromFindings, splitHalves } from "./learn.ts";
import { allWeakModel, cheapestModel, sideMapping } from "./mapping.ts";
import { callCostUsd, gatewayResult, mixResult, promptTokens, qualityValue, randomAtCost, referenceResults, refItem, RESULT_NAMES, userTurns, withRetained, type RefItem } from "./references.ts";
import { buildReport, renderSvg, renderTable, ticks } from "./report.ts";
import { planRequests, selectRows } from "./workload.ts";

const jsonl = (rows: readonly object[]): string => rows.map((r) => JSON.stringify(r)).join("\n");
const GSM = parseReplayJsonl(
  jsonl([
    { id: "g1", dataset: "gsm8k", category: "math", prompt: "Tom has 3 apples and buys 4 more. How many?", weak_correct: false, strong_correct: true, weak_response: " 3 + 4 = 12\n#### 12", strong_response: "3 + 4 = 7 apples.\n#### 7" },
    { id: "g2", dataset: "gsm8k", category: "math", prompt: "A box holds 6 eggs. How many eggs in 5 boxes?", weak_correct: true, strong_correct: true, weak_response: " 6 * 5 = 30\n#### 30", strong_response: "5 x 6 = 30 eggs.\n#### 30" },
  ]),
  "gsm8k-dev.jsonl",
);
const MMLU = parseReplayJsonl(
  jsonl([
    { id: "m1", dataset: "mmlu", category: "trivia", prompt: "Capital of France?\nA. Paris\nB. Rome\nC. Oslo\nD. Bern\nAnswer:", weak_correct: false, strong_correct: true },
    { id: "m2", dataset: "mmlu", category: "trivia", prompt: "2 + 2?\nA. 3\nB. 4\nC. 5\nD. 6\nAnswer:", weak_correct: false, strong_correct: false },
  ]),
  "mmlu-dev.jsonl",
);
const MT = parseReplayJsonl(
  jsonl([{ id: "mt1-2", dataset: "mt_bench", category: "writing", turn: 2, turns: ["Write a poem about the sea.", "Now make it rhyme."], weak_score: 8, strong_score: 6 }]),
  "mt_bench.jsonl",
);
const ROWS: ReplayRow[] = [...GSM, ...MMLU, ...MT];
const replay = buildReplay(ROWS, { weakModels: ["cheap"], strongModels: ["dear"] });
const correctnessOf = replay.correctnessOf.bind(replay);
const row = (id: string): ReplayRow => replay.row(id) as ReplayRow;

// $1 / $2 per 1M tokens (in / out) for the weak model, $10 / $20 for the strong one.
const PRICES = PriceTable.fromObject({
  models: {
    cheap: { provider: "test", versions: [{ effective_from: "2024-01-01", input: 1, output: 2 }] },
    dear: { provider: "test", versions: [{ effective_from: "2024-01-01", input: 10, output: 20 }] },
  },
});
const AT = new Date("2025-01-01T00:00:00Z");

describe("side mapping from configuration", () => {
  it("the shipped config: HIGH/AGENTIC models and the reference model are strong, every other model weak", () => {
    const cfg = loadConfig({ env: {} });
    const m = sideMapping(cfg);
    expect(m.strongModels.sort()).toEqual(["claude-sonnet-4-5", "gpt-4o"]);
    expect(m.weakModels).toEqual(expect.arrayContaining(["small-8k", "gpt-4.1-nano", "gpt-4o-mini", "claude-3-5-haiku-latest"]));
    expect(m.weakModels.filter((x) => m.strongModels.includes(x))).toEqual([]);
    // Embedding models answer no chat prompt: on neither side (the replay simulator refuses them).
    const chatModels = Object.entries(cfg.models).filter(([, x]) => x.kind !== "embedding").map(([id]) => id);
    expect(chatModels.length).toBeLessThan(Object.keys(cfg.models).length);
    expect(new Set([...m.weakModels, ...m.strongModels])).toEqual(new Set(chatModels));
    expect(allWeakModel(cfg, m, loadPriceTable(), AT)).toBe("small-8k");
  });

  it("a reference model outside the strong tiers is strong; a MEDIUM model in no strong tier is weak", () => {
    const cfg = loadConfig({ env: {} });
    cfg.routing.reference_model = "o3-mini";
    cfg.routing.tiers = { LOW: ["gpt-4o-mini"], MEDIUM: ["gpt-4o"], HIGH: ["claude-sonnet-4-5"], AGENTIC: ["claude-sonnet-4-5"] };
    const m = sideMapping(cfg);
    expect(m.strongModels.sort()).toEqual(["claude-sonnet-4-5", "o3-mini"]);
    expect(m.weakModels).toContain("gpt-4o");
  });

  it("cheapest model by list price, skipping unpriced ones", () => {
    expect(cheapestModel(["dear", "nope", "cheap"], PRICES, AT)).toBe("cheap");
    expect(() => cheapestModel(["nope"], PRICES, AT)).toThrow(/no priced model/);
  });
});

describe("reference lines", () => {
  const pricing = { prices: PRICES, weakModel: "cheap", referenceModel: "dear", at: AT };
  const items: RefItem[] = ROWS.map((r, i) => refItem(r, correctnessOf, pricing, i % 2 === 0));

  it("prices a side on the prompt (with chat framing) and the recorded answer's tokens", () => {
    const g1 = row("gsm8k:g1");
    const it = refItem(g1, correctnessOf, pricing, false);
    const input = promptTokens(userTurns(g1));
    expect(input).toBeGreaterThan(7); // 3 priming + 4 framing + the text
    expect(it.strong.costUsd).toBeCloseTo(callCostUsd(PRICES, "dear", input, promptTokens([answerText(g1, "strong")]) - 7, AT), 12);
    // The weak answer costs 1/10 on the weak model of what it would cost on the reference model.
    expect(it.weak.baselineUsd).toBeCloseTo(it.weak.costUsd * 10, 12);
    expect(it.weak.quality).toBe(0);
    expect(it.strong.quality).toBe(1);
    expect(refItem(row("mt_bench:mt1-2"), correctnessOf, pricing, false).weak.quality).toBeCloseTo(0.8);
    expect(userTurns(row("mt_bench:mt1-2"))).toEqual(["Write a poem about the sea.", "Now make it rhyme."]);
  });

  it("all-strong, all-weak, random, oracle and the learned classifier", () => {
    const byName = Object.fromEntries(referenceResults(items, 0.25).map((r) => [r.name, r]));
    const sum = (f: (it: RefItem) => number): number => items.reduce((a, it) => a + f(it), 0);
    const allStrong = byName["all-strong"];
    expect(allStrong?.cost_usd).toBeCloseTo(sum((it) => it.strong.costUsd), 15);
    expect(allStrong?.baseline_usd).toBeCloseTo(allStrong?.cost_usd ?? NaN, 15);
    expect(allStrong?.savings).toBe(0);
    expect(allStrong?.quality).toBeCloseTo((1 + 1 + 1 + 0 + 0.6) / 5, 12);
    expect(byName["all-weak"]?.quality).toBeCloseTo((0 + 1 + 0 + 0 + 0.8) / 5, 12);
    expect(byName["all-weak"]?.savings).toBeCloseTo(0.9, 12); // every weak answer at 1/10 of its reference price
    expect(byName["random"]?.cost_usd).toBeCloseTo(0.25 * sum((it) => it.strong.costUsd) + 0.75 * sum((it) => it.weak.costUsd), 15);
    expect(byName["random"]?.strong_share).toBeCloseTo(0.25, 12);
    // Oracle: g1 strong, g2 weak, m1 strong, m2 (both wrong) strong, mt (weak scores higher) weak.
    expect(byName["oracle"]?.strong_share).toBeCloseTo(3 / 5, 12);
    expect(byName["oracle"]?.quality).toBeCloseTo((1 + 1 + 1 + 0 + 0.8) / 5, 12);
    // Learned: strong on items 0, 2, 4 (g1, m1, mt).
    expect(byName["learned-classifier"]?.quality).toBeCloseTo((1 + 1 + 1 + 0 + 0.6) / 5, 12);
    expect(byName["learned-classifier"]?.split).toEqual({ cache: 0, routing: byName["learned-classifier"]?.savings, cascade: 0 });
  });

  it("random at a given cost solves for the strong share", () => {
    const weak = items.reduce((a, it) => a + it.weak.costUsd, 0);
    const strong = items.reduce((a, it) => a + it.strong.costUsd, 0);
    const r = randomAtCost(items, weak + 0.4 * (strong - weak));
    expect(r.strong_share).toBeCloseTo(0.4, 12);
    expect(r.quality).toBeCloseTo(mixResult("random", items, () => 0.4).quality, 12);
    expect(randomAtCost(items, 10 * strong).strong_share).toBe(1);
    expect(randomAtCost(items, 0).strong_share).toBe(0);
  });

  it("the gateway line takes cost, baseline and split from the ledger; retained is relative to all-strong", () => {
    const ledger = { requests: 4, cost_usd: 1, baseline_usd: 4, savings_usd: 3, savings: { cache_usd: 1, routing_usd: 0.5, cascade_usd: 1.5, batch_usd: 0 } };
    const g = gatewayResult(ledger, [1, 0, 1, 1], 0.5);
    expect(g).toMatchObject({ name: "gateway", cost_usd: 1, baseline_usd: 4, savings: 0.75, split: { cache: 0.25, routing: 0.125, cascade: 0.375 }, quality: 0.75, strong_share: 0.5, requests: 4 });
    const all = withRetained([g, mixResult("all-strong", items, () => 1)]);
    expect(all[0]?.retained).toBeCloseTo(0.75 / 0.72, 12);
    expect(all[1]?.retained).toBe(1);
    expect(withRetained([g])[0]?.retained).toBeNull();
  });

  it("quality values", () => {
    expect(qualityValue({ correct: true })).toBe(1);
    expect(qualityValue({ correct: false })).toBe(0);
    expect(qualityValue({ score: 7 })).toBeCloseTo(0.7);
    expect(() => qualityValue(undefined, "x:1")).toThrow(/x:1/);
  });
});

describe("attribution of a served answer", () => {
  it("the side named by the model, confirmed by the text", () => {
    const g1 = row("gsm8k:g1");
    expect(attributeServed(g1, answerText(g1, "weak"), "weak", correctnessOf)).toEqual({ side: "weak", quality: 0, headerMismatch: false });
    expect(attributeServed(g1, ` ${answerText(g1, "strong")}\n`, "strong", correctnessOf)).toEqual({ side: "strong", quality: 1, headerMismatch: false });
    // A cache hit whose header is not a mapped model: the text decides.
    expect(attributeServed(g1, answerText(g1, "strong"), undefined, correctnessOf)).toEqual({ side: "strong", quality: 1, headerMismatch: false });
    expect(attributeServed(g1, answerText(g1, "strong"), "weak", correctnessOf)).toEqual({ side: "strong", quality: 1, headerMismatch: true });
  });

  it("an answer recorded for another row is scored against this row's right answer", () => {
    const m1 = row("mmlu:m1");
    const right = choiceLetters("m1", false, true).right;
    const wrong = (["A", "B", "C", "D"] as const).find((l) => l !== right) ?? "A";
    expect(attributeServed(m1, `The answer is (${right}).`, "weak", correctnessOf)).toMatchObject({ side: "strong", quality: 1 });
    expect(attributeServed(m1, `The answer is (${wrong}).`, "weak", correctnessOf)).toEqual({ side: "foreign", quality: 0, headerMismatch: false });
    expect(attributeServed(row("gsm8k:g1"), "So 7 in all.\n#### 7", "weak", correctnessOf)).toMatchObject({ side: "foreign", quality: 1 });
    expect(attributeServed(row("gsm8k:g1"), "#### 12.5", "weak", correctnessOf)).toMatchObject({ side: "foreign", quality: 0 });
    expect(attributeServed(row("mt_bench:mt1-2"), "[weak answer to mt_bench:other]", "weak", correctnessOf)).toMatchObject({ side: "foreign", quality: 0.1 });
  });

  it("a cache hit is this row's answer only when it is the text first served for the row", () => {
    const m1 = row("mmlu:m1");
    const strong = answerText(m1, "strong");
    expect(attributeServed(m1, strong, "strong", correctnessOf, { hit: true, earlierText: strong })).toEqual({ side: "strong", quality: 1, headerMismatch: false });
    // A first-time row served from the cache got another question's answer, even if the letter looks like its own.
    expect(attributeServed(m1, strong, "strong", correctnessOf, { hit: true, earlierText: undefined })).toEqual({ side: "foreign", quality: 1, headerMismatch: false });
    expect(attributeServed(m1, answerText(m1, "weak"), "weak", correctnessOf, { hit: true, earlierText: strong })).toEqual({ side: "foreign", quality: 0, headerMismatch: false });
    expect(attributeServed(m1, strong, "strong", correctnessOf, { hit: false, earlierText: undefined }).side).toBe("strong");
  });
});

describe("request plan", () => {
  const many = Array.from({ length: 30 }, (_, i) => ({ rowId: `r${i}`, source: i < 5 ? "a.jsonl" : "b.jsonl" }));

  it("a limit splits evenly over the files, a small file giving its rest to the others; seeded", () => {
    const picked = selectRows(many, 12, 7);
    expect(picked).toHaveLength(12);
    expect(picked.filter((r) => r.source === "a.jsonl")).toHaveLength(5);
    expect(selectRows(many, 8, 7).filter((r) => r.source === "a.jsonl")).toHaveLength(4);
    expect(selectRows(many, 12, 7)).toEqual(picked);
    expect(selectRows(many, 12, 8)).not.toEqual(picked);
    expect(new Set(selectRows(many, undefined, 1).map((r) => r.rowId)).size).toBe(30);
  });

  it("repeats come after the first pass, each an earlier row, without replacement", () => {
    const plan = planRequests(many, 0.2, 3);
    expect(plan).toHaveLength(36);
    expect(plan.slice(0, 30).every((p) => !p.repeat)).toBe(true);
    const again = plan.slice(30);
    expect(again.every((p) => p.repeat && many.includes(p.row))).toBe(true);
    expect(new Set(again.map((p) => p.row.rowId)).size).toBe(6);
    expect(planRequests(many, 0, 3)).toHaveLength(30);
    expect(() => planRequests(many, 1.5, 3)).toThrow(/repeat share/);
  });
});

describe("report", () => {
  it("JSON shape: n and one result per strategy with the documented fields", () => {
    const items: RefItem[] = ROWS.map((r) => refItem(r, correctnessOf, { prices: PRICES, weakModel: "cheap", referenceModel: "dear", at: AT }, false));
    const g = gatewayResult({ requests: 5, cost_usd: 0.0001, baseline_usd: 0.0004, savings_usd: 0.0003, savings: { cache_usd: 0, routing_usd: 0.0003, cascade_usd: 0, batch_usd: 0 } }, [1, 1, 0, 0, 0.8], 0.2);
    const results = withRetained([g, ...referenceResults(items, 0.2)]);
    const report = JSON.parse(JSON.stringify(buildReport(5, results, { mode: "embedded" }))) as { n: number; mode: string; results: Record<string, unknown>[] };
    expect(report.n).toBe(5);
    expect(report.mode).toBe("embedded");
    expect(report.results.map((r) => r["name"])).toEqual([...RESULT_NAMES]);
    for (const r of report.results) {
      for (const k of ["cost_usd", "baseline_usd", "savings", "quality", "retained"]) expect(typeof r[k]).toBe("number");
      expect(r["savings"]).toBeCloseTo(1 - (r["cost_usd"] as number) / (r["baseline_usd"] as number), 12);
    }
    const table = renderTable(results);
    for (const name of RESULT_NAMES) expect(table).toContain(name);
    const svg = renderSvg(results, "a <title>");
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("a &lt;title&gt;");
    expect(svg.match(/<circle /g)).toHaveLength(2 * RESULT_NAMES.length);
  });

  it("ticks are round steps inside the range", () => {
    expect(ticks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(ticks(0.7, 0.86)).toEqual([0.7, 0.75, 0.8, 0.85]);
  });
});

describe("--learn helpers", () => {
  it("splits rows into two seeded, stable halves", () => {
    const rows = Array.from({ length: 11 }, (_, i) => ({ rowId: `r${i}` }));
    const a = splitHalves(rows, 7);
    expect(a.learn).toHaveLength(6);
    expect(a.evaluate).toHaveLength(5);
    expect(new Set([...a.learn, ...a.evaluate].map((r) => r.rowId)).size).toBe(11);
    expect(splitHalves([...rows].reverse(), 7).learn.map((r) => r.rowId).sort()).toEqual(a.learn.map((r) => r.rowId).sort());
  });
  it("switches shadow sampling on and names every changed key", () => {
    const shipped = loadConfig({ env: {} });
    const { config, changes } = learnConfig(shipped, { sampleRate: 1, tiers: ["HIGH", "AGENTIC"], dailyCapUsd: 1000, excludeTenants: ["t-before"] });
    expect(config.routing.shadow).toMatchObject({ sample_rate: 1, tiers: ["HIGH", "AGENTIC"], daily_cap_usd: 1000 });
    expect(config.routing.shadow.exclude_tenants).toContain("t-before");
    expect(changes.some((c) => c.startsWith("routing.shadow.sample_rate:"))).toBe(true);
    expect(shipped.routing.shadow.sample_rate).not.toBe(1);
  });
  it("samples the tiers it is told to, never LOW (no cheaper tier to test on)", () => {
    expect(parseShadowTiers("MEDIUM, HIGH,AGENTIC")).toEqual(["MEDIUM", "HIGH", "AGENTIC"]);
    expect(() => parseShadowTiers("LOW,HIGH")).toThrow(/LOW has no cheaper tier/);
    expect(() => parseShadowTiers("HIGHEST")).toThrow(/--shadow-tiers/);
    expect(() => parseShadowTiers(" , ")).toThrow(/--shadow-tiers/);
  });
  it("rebuilds n results with round(rate × n) passes per cell", () => {
    const rs = resultsFromFindings([{ category: "math", tier: "HIGH", from: "gpt-4o", to: "gpt-4o-mini", samples: 7, passRate: 5 / 7 }], "t", new Date(0));
    expect(rs).toHaveLength(7);
    expect(rs.filter((r) => r.ok)).toHaveLength(5);
    expect(rs[0]).toMatchObject({ servedModel: "gpt-4o", candidateModel: "gpt-4o-mini", tier: "HIGH" });
  });
});
