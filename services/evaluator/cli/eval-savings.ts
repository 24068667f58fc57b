// npm run eval:savings -- --data FILE [--data FILE ...] [--mode embedded|mesh] [--limit N] [--repeat-share R]
//                          [--seed S] [--concurrency C] [--json OUT] [--plot OUT.svg] [--learn [--shadow-rate R] [--shadow-tiers T,T]]
// A savings replay on recorded answers (issue #8, item 1). The simulator replays the router benchmark's recorded
// weak/strong answers for the models the gateway's configuration puts on each side; the gateway, in the chosen mode
// with the shipped default configuration (classifier, cache, router, cascade, budgets, ledger all running), answers
// every prompt through its real edge (`model: "auto"`, the openai SDK, a tenant key of the run's own). Cost is read
// back from the ledger (GET /v1/llmgw/spend); quality is the recorded correctness of the answer actually served.
// References (all-strong, all-weak, random at the gateway's strong share, oracle, the learned classifier alone) are
// computed offline on the same requests, priced at list prices on real token counts.
// --learn (issue #8, item 4): the prompts split in two seeded halves; the gateway runs with shadow sampling on (the only
// config change, printed); the first half is replayed and shadow-tested, the analysis turns the evaluator's findings
// into routing overrides applied through the policy admin API, and the second half is replayed twice from an empty
// cache (a fresh tenant each): under policy version 0 (before) and under the learned version (after).
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { SingleBar } from "cli-progress";
import { Command } from "commander";
import OpenAI from "openai";
import { createLogger, silentLogger, type Logger } from "#libs/log/logger.ts";
import { loadPriceTable } from "#libs/pricing/index.ts";
import type { ReplayRow, ReplaySide } from "#libs/simulator/replay.ts";
import { startSimulator } from "#libs/simulator/server.ts";
import { buildClassifier } from "#services/classifier/build.ts";
import { needsStrong } from "#services/classifier/domain/tier.ts";
import { analyzeShadowTests, overridesFromReport, overridesPatchYaml, renderMarkdown } from "#services/evaluator/domain/analysis/index.ts";
import { attributeServed, type ServedSide } from "./savings/attribution.ts";
import { applyPolicyYaml, createTenantKey, revertPolicy, shippedConfig, startGateway, waitForLedger, waitForShadowTests, type Mode, type RunningGateway } from "./savings/gateway.ts";
import { cellLines, learnConfig, learnLine, parseShadowTiers, resultsFromFindings, splitHalves } from "./savings/learn.ts";
import { allWeakModel, sideMapping } from "./savings/mapping.ts";
import { gatewayResult, randomAtCost, refItem, referenceResults, userTurns, withRetained, type LearnResultName, type RefItem, type SavingsResult } from "./savings/references.ts";
import { buildReport, renderSvg, renderTable } from "./savings/report.ts";
import { planRequests, selectRows, type Planned } from "./savings/workload.ts";

const program = new Command()
  .name("eval-savings")
  .description("Savings replay: the gateway (shipped default config) on recorded router-benchmark answers, cost from its ledger, quality from the recorded correctness")
  .option("--data <file>", "RouteLLM router-benchmark JSONL, GSM8K, MMLU or MT-Bench rows (repeatable), e.g. gsm8k-dev.jsonl", (v: string, acc: string[]) => [...acc, v], [] as string[])
  .option("--mode <mode>", "embedded | mesh (mesh needs local PostgreSQL, Redis and NATS)", "embedded")
  .option("--limit <n>", "ask n rows, split evenly over the files (seeded sample)")
  .option("--repeat-share <r>", "ask this share of the rows a second time, after the first pass (cache)", "0")
  .option("--seed <s>", "seed of the row sample, the order and the repeats", "1")
  .option("--concurrency <c>", "requests in flight", "8")
  .option("--json <out>", "write the JSON report here")
  .option("--plot <out.svg>", "write the cost-quality plot here")
  .option("--log-level <level>", "gateway log level (logs go to stdout)", "silent")
  .option("--learn", "shadow-test the first half of the prompts, apply the analysis' overrides, replay the second half before/after")
  .option("--shadow-rate <r>", "with --learn: routing.shadow.sample_rate for the run", "1")
  .option("--shadow-tiers <list>", "with --learn: routing.shadow.tiers for the run (every tier with a cheaper tier below it, by default)", "MEDIUM,HIGH,AGENTIC")
  .parse();

const o = program.opts<{
  data: string[];
  mode: string;
  limit?: string;
  repeatShare: string;
  seed: string;
  concurrency: string;
  json?: string;
  plot?: string;
  logLevel: string;
  learn?: boolean;
  shadowRate: string;
  shadowTiers: string;
}>();

function num(v: string, name: string, min: number, max = Infinity, integer = false): number {
  const x = Number(v);
  if (!Number.isFinite(x) || x < min || x > max || (integer && !Number.isInteger(x))) throw new Error(`${name} must be ${integer ? "an integer" : "a number"} in [${min}, ${max}], got ${v}`);
  return x;
}
if (o.data.length === 0) throw new Error("at least one --data FILE is required");
for (const f of o.data) if (/(^|\/)holdout(\/|$)/.test(f)) throw new Error(`refusing to replay a holdout file (${f}): use the dev files`);
if (o.mode !== "embedded" && o.mode !== "mesh") throw new Error(`--mode must be embedded or mesh, got ${o.mode}`);
const mode: Mode = o.mode;
const limit = o.limit === undefined ? undefined : num(o.limit, "--limit", 1, Infinity, true);
const repeatShare = num(o.repeatShare, "--repeat-share", 0, 1);
const seed = num(o.seed, "--seed", 0, 2 ** 32, true);
const concurrency = num(o.concurrency, "--concurrency", 1, 256, true);
const learn = o.learn === true;
const shadowRate = num(o.shadowRate, "--shadow-rate", 0, 1);
if (learn && shadowRate === 0) throw new Error("--learn needs --shadow-rate > 0");
const shadowTiers = parseShadowTiers(o.shadowTiers);

// --- Configuration: the side mapping and the reference models -------------------------------------------------
const config = shippedConfig();
const mapping = sideMapping(config);
const prices = loadPriceTable();
const at = new Date();
const referenceModel = config.routing.reference_model;
const weakRefModel = allWeakModel(config, mapping, prices, at);
console.log(`weak side   (recorded weak answers):   ${mapping.weakModels.join(", ")}`);
console.log(`strong side (recorded strong answers): ${mapping.strongModels.join(", ")}`);
console.log(`references: all-strong = ${referenceModel} (routing.reference_model), all-weak = ${weakRefModel} (cheapest weak model of the LOW tier)`);

// --- Simulator in replay mode, and the run's requests ------------------------------------------------------------
const sim = await startSimulator({ port: 0, replay: { files: o.data, weakModels: mapping.weakModels, strongModels: mapping.strongModels } });
const replay = sim.replay;
if (replay === undefined) throw new Error("the simulator did not load the replay files");
const correctnessOf = (rowId: string, side: ReplaySide) => replay.correctnessOf(rowId, side);
const rows = selectRows(replay.rows, limit, seed);
const halves = learn ? splitHalves(rows, seed) : undefined;
// --learn: the first half is only asked to be shadow-tested; `plan` (what the report is about) is the second half.
const learnPlan = halves ? planRequests(halves.learn, repeatShare, seed) : [];
const askedRows = halves ? halves.evaluate : rows;
const plan = planRequests(askedRows, repeatShare, seed);
const countBy = <T>(xs: readonly T[], key: (x: T) => string): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const x of xs) out[key(x)] = (out[key(x)] ?? 0) + 1;
  return out;
};
if (halves) console.log(`--learn: ${halves.learn.length} rows learn (shadow-tested), ${halves.evaluate.length} rows evaluate (asked twice: before and after), seed ${seed}`);
console.log(`${replay.rows.length} rows loaded (${replay.skipped} duplicates skipped); asking ${askedRows.length} (${Object.entries(countBy(askedRows, (r) => r.dataset)).map(([d, k]) => `${d} ${k}`).join(", ")}) + ${plan.length - askedRows.length} repeats = ${plan.length} requests${halves ? ` per evaluation pass (and ${learnPlan.length} to learn)` : ""}, mode ${mode}, concurrency ${concurrency}`);

// --- References, offline ----------------------------------------------------------------------------------------
const classifierSection = (config.classifier ?? {}) as Record<string, unknown>;
const artifact = typeof classifierSection["artifact"] === "string" ? classifierSection["artifact"] : "services/classifier/models/router-v1.json";
const learned = buildClassifier({ kind: "learned", artifact });
const learnedStrongOf = new Map<string, boolean>();
for (const r of rows) learnedStrongOf.set(r.rowId, needsStrong(learned.classify({ messages: userTurns(r).map((content) => ({ role: "user", content })), hasTools: false, jsonMode: false }).tier));
const itemOf = new Map<string, RefItem>();
for (const r of rows) itemOf.set(r.rowId, refItem(r, correctnessOf, { prices, weakModel: weakRefModel, referenceModel, at }, learnedStrongOf.get(r.rowId) ?? false));
const items = plan.map((p) => itemOf.get(p.row.rowId) as RefItem);

// --- The gateway ------------------------------------------------------------------------------------------------
interface Outcome {
  rowId: string;
  dataset: string;
  repeat: boolean;
  model: string;
  tier: string;
  cache: string;
  similarity?: number;
  side: ServedSide | "error";
  quality: number;
  headerMismatch: boolean;
  /** The router sampled it for a shadow test (x-llmgw-route-reasons: "shadow test on ..."). */
  shadow: boolean;
  error?: string;
}

const logger: Logger = o.logLevel === "silent" ? silentLogger() : createLogger("eval-savings", { level: o.logLevel });
/** The router that applies a policy sees it at once, other replicas within 2 s: wait that long after a change. */
const POLICY_RELOAD_MS = 2_500;
const adminKey = `llmgw-eval-savings-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
const runId = Date.now().toString(36);
const evalTenants = { before: `eval-savings-${runId}-before`, after: `eval-savings-${runId}-after` };
let gatewayConfig = config;
let gatewayChanges: string[] = [];
if (learn) {
  // Shadow sampling on for the run, by default in every tier that has a cheaper tier below it: with the shipped
  // classifier most traffic is MEDIUM (cascade), so sampling HIGH alone leaves every cell below the analysis' minimum
  // n. The evaluation passes' tenants are excluded so their requests are measured, not shadow-tested.
  const lc = learnConfig(config, { sampleRate: shadowRate, tiers: shadowTiers, dailyCapUsd: 1_000, excludeTenants: [evalTenants.before, evalTenants.after] });
  gatewayConfig = lc.config;
  gatewayChanges = lc.changes;
  console.log(`--learn: shipped default config except:\n${lc.changes.map((c) => `  ${c}`).join("\n")}`);
}
const t0 = Date.now();
const gw = await startGateway(mode, sim.url, logger, adminKey, gatewayConfig).catch(async (e: unknown) => {
  await sim.close();
  throw e;
});
let exitCode = 0;
try {
  console.log(`gateway (${mode}) at ${gw.url}${gw.namespace ? `, namespace ${gw.namespace}` : ""}`);
  const canonical = (m: string): string => prices.canonical(m);
  const sideOfModel = (m: string): ReplaySide | undefined => replay.sideOf(m) ?? replay.sideOf(canonical(m));

  interface Pass {
    tenant: string;
    tenantKey: string;
    outcomes: Outcome[];
    ledger: Awaited<ReturnType<typeof waitForLedger>>;
    sendMs: number;
  }
  /** One replay of `plan` through the edge under a fresh tenant (its own cache partition and spend), cost from the ledger. */
  const replayPass = async (label: string, tenant: string, plan: readonly Planned<ReplayRow>[]): Promise<Pass> => {
    const since = new Date(Date.now() - 60_000);
    const tenantKey = await createTenantKey(gw, tenant);
    console.log(`${label}: ${plan.length} requests, tenant ${tenant}`);
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: tenantKey, maxRetries: 0, timeout: 120_000 });
    const tPass = Date.now();
    const outcomes: Outcome[] = new Array<Outcome>(plan.length);
    const bar = process.stderr.isTTY ? new SingleBar({ format: `${label} {bar} {value}/{total} {eta_formatted}`, clearOnComplete: true }) : undefined;
    bar?.start(plan.length, 0);
    let done = 0;
    // The text first served for each row in this pass: a later cache hit must serve that text to count as this row's.
    const firstText = new Map<string, string>();
    const ask = async (p: Planned<ReplayRow>): Promise<Outcome> => {
      const base = { rowId: p.row.rowId, dataset: p.row.dataset, repeat: p.repeat };
      try {
        const { data, response } = await client.chat.completions.create({ model: "auto", messages: userTurns(p.row).map((content) => ({ role: "user" as const, content })) }).withResponse();
        const model = response.headers.get("x-llmgw-model") ?? data.model;
        const cache = response.headers.get("x-llmgw-cache") ?? "";
        const text = data.choices[0]?.message.content ?? "";
        const served = attributeServed(p.row, text, sideOfModel(model), correctnessOf, { hit: cache.startsWith("hit"), earlierText: firstText.get(p.row.rowId) });
        if (!firstText.has(p.row.rowId)) firstText.set(p.row.rowId, text);
        const sim = Number(response.headers.get("x-llmgw-cache-similarity") ?? NaN);
        const shadow = (response.headers.get("x-llmgw-route-reasons") ?? "").includes("shadow test on");
        return { ...base, model, tier: response.headers.get("x-llmgw-tier") ?? "", cache, ...(Number.isFinite(sim) ? { similarity: sim } : {}), side: served.side, quality: served.quality, headerMismatch: served.headerMismatch, shadow };
      } catch (e) {
        // No answer served: quality 0, and the failure is reported.
        return { ...base, model: "", tier: "", cache: "", side: "error", quality: 0, headerMismatch: false, shadow: false, error: e instanceof Error ? e.message : String(e) };
      }
    };
    const runPhase = async (indices: number[]): Promise<void> => {
      let next = 0;
      const worker = async (): Promise<void> => {
        for (let k = next++; k < indices.length; k = next++) {
          const i = indices[k] as number;
          outcomes[i] = await ask(plan[i] as Planned<ReplayRow>);
          done++;
          if (bar) bar.increment();
          else if (done % Math.max(1, Math.floor(plan.length / 10)) === 0) console.error(`  ${label}: ${done}/${plan.length} requests`);
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, indices.length) }, worker));
    };
    const idx = plan.map((_, i) => i);
    await runPhase(idx.filter((i) => !(plan[i] as Planned<ReplayRow>).repeat));
    await runPhase(idx.filter((i) => (plan[i] as Planned<ReplayRow>).repeat));
    bar?.stop();
    const sendMs = Date.now() - tPass;
    // --- Cost from the ledger ---
    const ledger = await waitForLedger(gw, tenantKey, since, plan.length);
    if (!ledger.complete) {
      console.error(`WARNING: ${label}: the ledger has ${ledger.total.requests} of ${plan.length} requests after ${ledger.waitedMs} ms; cost is incomplete`);
      exitCode = 1;
    }
    return { tenant, tenantKey, outcomes, ledger, sendMs };
  };

  let learnSection: Record<string, unknown> | undefined;
  let beforePass: Pass | undefined;
  let mainPass: Pass;
  if (!learn) mainPass = await replayPass("replay", `eval-savings-${runId}`, plan);
  else {
    // 1. The first half, shadow-tested.
    const learnTenant = `eval-savings-${runId}-learn`;
    const lp = await replayPass("learn (first half)", learnTenant, learnPlan);
    const sampled = lp.outcomes.filter((x) => x.shadow).length;
    console.log(`learn: ${sampled} of ${learnPlan.length} requests sampled for a shadow test (tiers ${JSON.stringify(countBy(lp.outcomes, (x) => x.tier || "-"))}); waiting for the evaluator to record them`);
    const sh = await waitForShadowTests(gw, learnTenant, sampled, { onProgress: (n) => console.error(`  shadow tests recorded: ${n}/${sampled}`) });
    if (!sh.complete) console.error(`WARNING: the evaluator recorded ${sh.samples} of ${sampled} shadow tests (no progress for 30 s or timeout after ${sh.waitedMs} ms); analysing those`);
    else console.log(`learn: all ${sh.samples} shadow tests recorded after ${(sh.waitedMs / 1000).toFixed(1)} s`);
    // 2. The analysis on the evaluator's findings (samples and passes per cell), default parameters, no volumes.
    const analysedAt = new Date();
    const analysis = analyzeShadowTests({ results: resultsFromFindings(sh.cells, learnTenant, analysedAt), volumes: [], generatedAt: analysedAt, tenantId: learnTenant, projectedCost: () => Number.NaN });
    const overrides = overridesFromReport(analysis);
    const patchYaml = overridesPatchYaml(analysis, { current: config.routing.overrides, configPath: "deploy/config/llmgw.yaml" });
    const outDir = o.json ? dirname(o.json) : mkdtempSync(join(tmpdir(), "eval-savings-learn-"));
    mkdirSync(outDir, { recursive: true });
    const stem = o.json ? basename(o.json).replace(/\.json$/i, "") : "learn";
    const files = { markdown: join(outDir, `${stem}-analysis.md`), yaml: join(outDir, `${stem}-routing-overrides.yaml`) };
    writeFileSync(files.markdown, renderMarkdown(analysis));
    writeFileSync(files.yaml, patchYaml);
    const cells = cellLines(analysis);
    console.log(`analysis (${JSON.stringify(analysis.params)}): ${JSON.stringify(analysis.summary)}`);
    for (const l of cells) console.log(`  ${l}`);
    console.log(`wrote ${files.markdown}\n      ${files.yaml}`);
    // 3. The overrides become the live policy.
    let learnedVersion = 0;
    const diff = overrides.map((v) => `+ ${v.category}/${v.tier}: use ${v.use}${v.instead_of === undefined ? "" : ` instead of ${v.instead_of}`}${v.evidence ? ` (shadow-tested: ${v.evidence.passes}/${v.evidence.n} agreed, p_adj ${v.evidence.p_adjusted})` : ""}`);
    if (overrides.length > 0) {
      const live = await applyPolicyYaml(gw, patchYaml, `eval-savings --learn ${runId}: ${overrides.length} override(s) from ${sh.samples} shadow tests`);
      learnedVersion = live.version;
    }
    const policyDiff = overrides.length > 0 ? diff.join("\n") : `(none: the analysis recommends no override; ${analysis.summary.downgrade} downgrade, ${analysis.summary.keep} keep, ${analysis.summary.insufficient} insufficient)`;
    console.log(`policy diff (version 0 -> ${learnedVersion}):\n${policyDiff}`);
    // 4. The second half from an empty cache, under version 0, then under the learned version.
    const settle = (): Promise<void> => new Promise((r) => setTimeout(r, POLICY_RELOAD_MS));
    if (learnedVersion > 0) {
      const v0 = await revertPolicy(gw, 0, `eval-savings --learn ${runId}: before`);
      console.log(`policy version ${v0.version} live (before)`);
      await settle();
    }
    beforePass = await replayPass("before (second half, shipped policy)", evalTenants.before, plan);
    if (learnedVersion > 0) {
      const vl = await revertPolicy(gw, learnedVersion, `eval-savings --learn ${runId}: after`);
      console.log(`policy version ${vl.version} live (after)`);
      await settle();
      mainPass = await replayPass(`after (second half, learned policy v${learnedVersion})`, evalTenants.after, plan);
    } else {
      console.log("after = before: the learned policy is the shipped one, the second half is not asked again");
      mainPass = beforePass;
    }
    learnSection = {
      policy_diff: policyDiff,
      policy_version: learnedVersion,
      after_measured: learnedVersion > 0,
      overrides,
      patch_yaml: patchYaml,
      files,
      config_changes: gatewayChanges,
      halves: { learn_rows: halves?.learn.length ?? 0, evaluate_rows: halves?.evaluate.length ?? 0, learn_requests: learnPlan.length, evaluate_requests: plan.length },
      shadow: { sampled, recorded: sh.samples, complete: sh.complete, waited_ms: sh.waitedMs, learn_tiers: countBy(lp.outcomes, (x) => x.tier || "-"), learn_models: countBy(lp.outcomes, (x) => x.model || "-"), learn_errors: lp.outcomes.filter((x) => x.side === "error").length },
      analysis: { params: analysis.params, summary: analysis.summary, cells: analysis.cells.map((c) => ({ category: c.category, tier: c.tier, served: c.servedModel, candidate: c.candidateModel, n: c.n, passes: c.passes, rate: c.rate, ci: c.ci, p_adjusted: c.pAdjusted, decision: c.decision, in_patch: c.inPatch, note: c.note })) },
      findings: sh.cells,
      tenants: { learn: learnTenant, ...evalTenants },
    };
  }
  const { tenant, outcomes, ledger, sendMs } = mainPass;
  if (learnSection) console.log(`the gateway details below are the ${beforePass === mainPass ? "before" : "after"} pass's (tenant ${tenant})`);
  const idx = plan.map((_, i) => i);

  // --- Results ----------------------------------------------------------------------------------------------------
  const strongShare = outcomes.filter((x) => x.side === "strong").length / outcomes.length;
  const passLine = (p: Pass): ReturnType<typeof gatewayResult> => gatewayResult(p.ledger.total, p.outcomes.map((x) => x.quality), p.outcomes.filter((x) => x.side === "strong").length / p.outcomes.length);
  const named = (p: Pass, name: LearnResultName): ReturnType<typeof gatewayResult> => ({ ...passLine(p), name });
  // --learn: before and after on the second half, then the references on the same second-half requests.
  const gatewayLines = beforePass ? [named(beforePass, "before"), named(mainPass, "after")] : [passLine(mainPass)];
  const results: SavingsResult[] = withRetained([...gatewayLines, ...referenceResults(items, strongShare)]);
  const allStrongCost = results.find((r) => r.name === "all-strong")?.cost_usd ?? 0;
  const randomAtGatewayCost = randomAtCost(items, ledger.total.cost_usd);
  const foreign = outcomes.filter((x) => x.side === "foreign");

  // A row served from the cache must carry the side first served for it.
  const firstSide = new Map<string, ServedSide | "error">();
  let cacheSideChanges = 0;
  for (const i of idx) {
    const x = outcomes[i] as Outcome;
    if (!x.repeat) firstSide.set(x.rowId, x.side);
  }
  for (const x of outcomes) if (x.repeat && x.cache.startsWith("hit") && firstSide.get(x.rowId) !== x.side) cacheSideChanges++;

  const byDataset: Record<string, unknown> = {};
  for (const d of [...new Set(outcomes.map((x) => x.dataset))]) {
    const xs = outcomes.filter((x) => x.dataset === d);
    const its = items.filter((_, i) => (outcomes[i] as Outcome).dataset === d);
    const mean = (v: number[]): number => (v.length > 0 ? v.reduce((a, b) => a + b, 0) / v.length : 0);
    byDataset[d] = {
      requests: xs.length,
      gateway_quality: mean(xs.map((x) => x.quality)),
      all_strong_quality: mean(its.map((it) => it.strong.quality)),
      all_weak_quality: mean(its.map((it) => it.weak.quality)),
      strong_share: xs.filter((x) => x.side === "strong").length / xs.length,
      learned_strong_share: its.filter((it) => it.learnedStrong).length / its.length,
      tiers: countBy(xs, (x) => x.tier || "-"),
      models: countBy(xs, (x) => x.model || "-"),
    };
  }

  const errors = outcomes.filter((x) => x.side === "error");
  const notes = [
    "Cost, baseline and the savings split are the ledger's (GET /v1/llmgw/spend for the run's tenant); the ledger's baseline prices each served answer's own usage at routing.reference_model.",
    "Reference lines are computed offline on the same requests (repeats included, no cache): list prices (deploy/config/prices.yaml) on o200k token counts of the prompt (with OpenAI chat framing) and of the recorded answer text; their baseline is each chosen answer priced at routing.reference_model, as the ledger does.",
    `all-weak, random, oracle and learned-classifier use ${weakRefModel} for the weak side and ${referenceModel} for the strong side.`,
    "random = expected value at the gateway's measured strong share; oracle = weak when the weak answer is right (MT-Bench: scores at least as well), else strong.",
    `learned-classifier = ${learned.name} alone (LOW/MEDIUM -> weak, HIGH/AGENTIC -> strong); it was trained on all three dev files, so on dev rows it is in-sample and optimistic.`,
    "MT-Bench turn 2 is sent as two user messages (turn 1, turn 2) with no assistant reply between them: the benchmark records no turn-1 answer text. Its quality is the judge score / 10. MT-Bench records no answer text, so its answers are short placeholders: output tokens (and cost) of MT-Bench rows are understated on every line alike.",
    "random_at_gateway_cost: random routing with the strong share that makes its expected cost equal the gateway's ledger cost.",
    "A cache hit is this row's answer only when it is the text this run first served for the row; otherwise it was stored for a different question (a semantic hit on a neighbour) and is scored against this row's known right answer (MMLU letter, GSM8K final number; MT-Bench: score 1/10).",
  ];
  const report = buildReport(plan.length, results, {
    ...(learnSection ? { learn: { before: learnLine(results[0] as SavingsResult), after: learnLine(results[1] as SavingsResult), ...learnSection } } : {}),
    unique_rows: askedRows.length,
    repeats: plan.length - askedRows.length,
    mode,
    data: o.data,
    seed,
    limit: limit ?? null,
    repeat_share: repeatShare,
    concurrency,
    mapping: { weak_models: mapping.weakModels, strong_models: mapping.strongModels, reference_model: referenceModel, all_weak_model: weakRefModel },
    config: { classifier: String(classifierSection["kind"] ?? "rules"), strategy: config.routing.strategy, cascade: config.routing.cascade, tiers: config.routing.tiers },
    random_at_gateway_cost: randomAtGatewayCost,
    cost_vs_all_strong: Object.fromEntries(results.map((r) => [r.name, allStrongCost > 0 ? r.cost_usd / allStrongCost : null])),
    gateway: {
      tenant,
      ledger: ledger.total,
      ledger_complete: ledger.complete,
      ledger_wait_ms: ledger.waitedMs,
      send_ms: sendMs,
      served: countBy(outcomes, (x) => x.side),
      cache: countBy(outcomes, (x) => x.cache || "-"),
      tiers: countBy(outcomes, (x) => x.tier || "-"),
      models: countBy(outcomes, (x) => x.model || "-"),
      foreign_answers: foreign.length,
      foreign_examples: foreign.slice(0, 10).map((x) => ({ row_id: x.rowId, cache: x.cache, similarity: x.similarity ?? null, quality: x.quality, prompt: (replay.row(x.rowId)?.prompt ?? "").slice(0, 160) })),
      header_mismatches: outcomes.filter((x) => x.headerMismatch).length,
      cache_side_changes: cacheSideChanges,
      errors: errors.length,
      first_errors: errors.slice(0, 5).map((x) => `${x.rowId}: ${x.error ?? ""}`),
      simulator: sim.stats().replay ?? null,
    },
    by_dataset: byDataset,
    notes,
    requests: outcomes.map(({ rowId, repeat, model, tier, cache, similarity, side, quality }) => ({ row_id: rowId, repeat, model, tier, cache, ...(similarity === undefined ? {} : { similarity }), side, quality })),
  });

  console.log(renderTable(report.results));
  const g = report["gateway"] as { served: Record<string, number>; cache: Record<string, number>; tiers: Record<string, number>; models: Record<string, number> };
  console.log(`gateway: ${plan.length} requests in ${(sendMs / 1000).toFixed(1)} s; ledger recorded ${ledger.total.requests}; tiers ${JSON.stringify(g.tiers)}; models ${JSON.stringify(g.models)}; cache ${JSON.stringify(g.cache)}; served ${JSON.stringify(g.served)}`);
  console.log(`random routing at the gateway's cost: strong share ${(randomAtGatewayCost.strong_share * 100).toFixed(1)}%, quality ${randomAtGatewayCost.quality.toFixed(3)} (gateway ${(report.results[0]?.quality ?? 0).toFixed(3)})`);
  if (foreign.length > 0) console.log(`${foreign.length} answers served from the cache were stored for a different question (semantic hits), quality ${(foreign.reduce((a, x) => a + x.quality, 0) / foreign.length).toFixed(3)}`);
  for (const [d, v] of Object.entries(byDataset)) console.log(`  ${d}: ${JSON.stringify(v)}`);
  if (errors.length > 0) console.error(`${errors.length} requests failed, e.g. ${errors[0]?.error ?? ""}`);
  if (o.json) {
    mkdirSync(dirname(o.json), { recursive: true });
    writeFileSync(o.json, `${JSON.stringify(report, null, 1)}\n`);
    console.log(`wrote ${o.json}`);
  }
  if (o.plot) {
    mkdirSync(dirname(o.plot), { recursive: true });
    writeFileSync(o.plot, renderSvg(report.results, `savings replay${halves ? " --learn, second half" : ""}: ${Object.entries(countBy(askedRows, (r) => r.dataset)).map(([d, k]) => `${d} ${k}`).join(" + ")}${plan.length > askedRows.length ? ` + ${plan.length - askedRows.length} repeats` : ""} (${mode})`));
    console.log(`wrote ${o.plot}`);
  }
} finally {
  await gw.stop();
  await sim.close();
}
process.exit(exitCode);
