// npm run eval:savings -- --data FILE [--data FILE ...] [--mode embedded|mesh] [--limit N] [--repeat-share R]
//                          [--seed S] [--concurrency C] [--json OUT] [--plot OUT.svg]
// A savings replay on recorded answers (issue #8, item 1). The simulator replays the router benchmark's recorded
// weak/strong answers for the models the gateway's configuration puts on each side; the gateway, in the chosen mode
// with the shipped default configuration (classifier, cache, router, cascade, budgets, ledger all running), answers
// every prompt through its real edge (`model: "auto"`, the openai SDK, a tenant key of the run's own). Cost is read
// back from the ledger (GET /v1/llmgw/spend); quality is the recorded correctness of the answer actually served.
// References (all-strong, all-weak, random at the gateway's strong share, oracle, the learned classifier alone) are
// computed offline on the same requests, priced at list prices on real token counts.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { SingleBar } from "cli-progress";
import { Command } from "commander";
import OpenAI from "openai";
import { createLogger, silentLogger, type Logger } from "#libs/log/logger.ts";
import { loadPriceTable } from "#libs/pricing/index.ts";
import type { ReplayRow, ReplaySide } from "#libs/simulator/replay.ts";
import { startSimulator } from "#libs/simulator/server.ts";
import { buildClassifier } from "#services/classifier/build.ts";
import { needsStrong } from "#services/classifier/domain/tier.ts";
import { attributeServed, type ServedSide } from "./savings/attribution.ts";
import { createTenantKey, shippedConfig, startGateway, waitForLedger, type Mode } from "./savings/gateway.ts";
import { allWeakModel, sideMapping } from "./savings/mapping.ts";
import { gatewayResult, randomAtCost, refItem, referenceResults, userTurns, withRetained, type RefItem } from "./savings/references.ts";
import { buildReport, renderSvg, renderTable } from "./savings/report.ts";
import { planRequests, selectRows, type Planned } from "./savings/workload.ts";

const LEARN_UNAVAILABLE = "--learn is not available yet: needs the shadow-test analysis (issue #8 item 3)";

const program = new Command()
  .name("eval-savings")
  .description("Savings replay: the gateway (shipped default config) on recorded router-benchmark answers, cost from its ledger, quality from the recorded correctness")
  .option("--data <file>", "router benchmark JSONL (repeatable), e.g. ../shared/benchmarks/router/gsm8k-dev.jsonl", (v: string, acc: string[]) => [...acc, v], [] as string[])
  .option("--mode <mode>", "embedded | mesh (mesh needs local PostgreSQL, Redis and NATS)", "embedded")
  .option("--limit <n>", "ask n rows, split evenly over the files (seeded sample)")
  .option("--repeat-share <r>", "ask this share of the rows a second time, after the first pass (cache)", "0")
  .option("--seed <s>", "seed of the row sample, the order and the repeats", "1")
  .option("--concurrency <c>", "requests in flight", "8")
  .option("--json <out>", "write the JSON report here")
  .option("--plot <out.svg>", "write the cost-quality plot here")
  .option("--log-level <level>", "gateway log level (logs go to stdout)", "silent")
  .option("--learn", "learn the router's knob from the replay (not available yet)")
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
}>();

if (o.learn === true) {
  console.error(LEARN_UNAVAILABLE);
  process.exit(2);
}

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
const plan = planRequests(rows, repeatShare, seed);
const countBy = <T>(xs: readonly T[], key: (x: T) => string): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const x of xs) out[key(x)] = (out[key(x)] ?? 0) + 1;
  return out;
};
console.log(`${replay.rows.length} rows loaded (${replay.skipped} duplicates skipped); asking ${rows.length} (${Object.entries(countBy(rows, (r) => r.dataset)).map(([d, k]) => `${d} ${k}`).join(", ")}) + ${plan.length - rows.length} repeats = ${plan.length} requests, mode ${mode}, concurrency ${concurrency}`);

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
  error?: string;
}

const logger: Logger = o.logLevel === "silent" ? silentLogger() : createLogger("eval-savings", { level: o.logLevel });
const adminKey = `llmgw-eval-savings-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
const t0 = Date.now();
const gw = await startGateway(mode, sim.url, logger, adminKey).catch(async (e: unknown) => {
  await sim.close();
  throw e;
});
let exitCode = 0;
try {
  const tenant = `eval-savings-${Date.now().toString(36)}`;
  const since = new Date(Date.now() - 60_000);
  const tenantKey = await createTenantKey(gw, tenant);
  console.log(`gateway (${mode}) at ${gw.url}${gw.namespace ? `, namespace ${gw.namespace}` : ""}; tenant ${tenant}`);
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: tenantKey, maxRetries: 0, timeout: 120_000 });
  const canonical = (m: string): string => prices.canonical(m);
  const sideOfModel = (m: string): ReplaySide | undefined => replay.sideOf(m) ?? replay.sideOf(canonical(m));

  const outcomes: Outcome[] = new Array<Outcome>(plan.length);
  const bar = process.stderr.isTTY ? new SingleBar({ format: "replay {bar} {value}/{total} {eta_formatted}", clearOnComplete: true }) : undefined;
  bar?.start(plan.length, 0);
  let done = 0;
  // The text first served for each row in this run: a later cache hit must serve that text to count as this row's.
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
      return { ...base, model, tier: response.headers.get("x-llmgw-tier") ?? "", cache, ...(Number.isFinite(sim) ? { similarity: sim } : {}), side: served.side, quality: served.quality, headerMismatch: served.headerMismatch };
    } catch (e) {
      // No answer served: quality 0, and the failure is reported.
      return { ...base, model: "", tier: "", cache: "", side: "error", quality: 0, headerMismatch: false, error: e instanceof Error ? e.message : String(e) };
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
        else if (done % Math.max(1, Math.floor(plan.length / 10)) === 0) console.error(`  ${done}/${plan.length} requests`);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, indices.length) }, worker));
  };
  const idx = plan.map((_, i) => i);
  await runPhase(idx.filter((i) => !(plan[i] as Planned<ReplayRow>).repeat));
  await runPhase(idx.filter((i) => (plan[i] as Planned<ReplayRow>).repeat));
  bar?.stop();
  const sendMs = Date.now() - t0;

  // --- Cost from the ledger ---------------------------------------------------------------------------------------
  const ledger = await waitForLedger(gw, tenantKey, since, plan.length);
  if (!ledger.complete) {
    console.error(`WARNING: the ledger has ${ledger.total.requests} of ${plan.length} requests after ${ledger.waitedMs} ms; cost is incomplete`);
    exitCode = 1;
  }

  // --- Results ----------------------------------------------------------------------------------------------------
  const strongShare = outcomes.filter((x) => x.side === "strong").length / outcomes.length;
  const results = withRetained([gatewayResult(ledger.total, outcomes.map((x) => x.quality), strongShare), ...referenceResults(items, strongShare)]);
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
    unique_rows: rows.length,
    repeats: plan.length - rows.length,
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
    writeFileSync(o.plot, renderSvg(report.results, `savings replay: ${Object.entries(countBy(rows, (r) => r.dataset)).map(([d, k]) => `${d} ${k}`).join(" + ")}${plan.length > rows.length ? ` + ${plan.length - rows.length} repeats` : ""} (${mode})`));
    console.log(`wrote ${o.plot}`);
  }
} finally {
  await gw.stop();
  await sim.close();
}
process.exit(exitCode);
