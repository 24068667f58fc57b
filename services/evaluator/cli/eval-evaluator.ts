// npm run eval:evaluator -- --data FILE [--json OUT] [--judge-url URL --judge-model MODEL]
// Scores each weak (cheap) answer of a router benchmark file (GSM8K format: id, prompt, weak_response,
// strong_response, weak_correct, strong_correct) against the strong (served) answer with every scorer,
// and reports how well each scorer's "acceptable" verdict matches weak_correct and what accuracy a
// downgrade decided by it would cost. The LLM judge runs only when --judge-url and --judge-model are given.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname } from "node:path";
import { SingleBar } from "cli-progress";
import Table from "cli-table3";
import { Command } from "commander";
import OpenAI from "openai";
import { z } from "zod";
import {
  agreementScorer,
  checksScorer,
  COMBINE_RULES,
  combineVerdicts,
  DEFAULT_SIMILARITY_THRESHOLD,
  judgeScorer,
  modelFamily,
  runScorers,
  similarityScorer,
  type CombineRule,
  type Scorer,
  type ScorerInput,
  type ScorerResult,
} from "../domain/scorers/index.ts";
import { scorerMetrics, thresholdSweep, type ScoredItem, type ScorerMetrics } from "../domain/scorers/metrics.ts";

const program = new Command()
  .name("eval-evaluator")
  .description("Measure the evaluator's scorers against labelled cheap answers (router benchmark JSONL with both answers)")
  .requiredOption("--data <file>", "RouteLLM router-benchmark JSONL with both answers (GSM8K rows, e.g. gsm8k-dev.jsonl)")
  .option("--json <out>", "write the JSON report here")
  .option("--limit <n>", "only the first n rows")
  .option("--rule <rule>", `combined-verdict rule: ${COMBINE_RULES.join(" | ")}`, "all")
  .option("--similarity-threshold <x>", "similarity scorer threshold", String(DEFAULT_SIMILARITY_THRESHOLD))
  .option("--similarity-votes", "count the similarity scorer in the combined verdict (advisory by default)")
  .option("--text-threshold <x>", "agreement scorer: token F1 threshold for free text", "0.5")
  .option("--weak-model <id>", "model that wrote weak_response (for the judge's family check)", "Mixtral-8x7B-Instruct-v0.1")
  .option("--strong-model <id>", "model that wrote strong_response (for the judge's family check)", "gpt-4-1106-preview")
  .option("--judge-url <url>", "OpenAI-compatible base URL of the judge (enables the judge)")
  .option("--judge-model <id>", "judge model id")
  .option("--judge-key-env <name>", "environment variable holding the judge's API key", "OPENAI_API_KEY")
  .option("--concurrency <n>", "items scored at once (matters for the judge)", "4")
  .parse();

const o = program.opts<{
  data: string;
  json?: string;
  limit?: string;
  rule: string;
  similarityThreshold: string;
  similarityVotes?: boolean;
  textThreshold: string;
  weakModel: string;
  strongModel: string;
  judgeUrl?: string;
  judgeModel?: string;
  judgeKeyEnv: string;
  concurrency: string;
}>();

function num(v: string, name: string, min = -Infinity, max = Infinity): number {
  const x = Number(v);
  if (!Number.isFinite(x) || x < min || x > max) throw new Error(`${name} must be a number in [${min}, ${max}], got ${v}`);
  return x;
}
if (!(COMBINE_RULES as readonly string[]).includes(o.rule)) throw new Error(`--rule must be one of ${COMBINE_RULES.join("|")}`);
const rule = o.rule as CombineRule;
if (/(^|\/)holdout(\/|$)/.test(o.data)) throw new Error("refusing to evaluate on a holdout file: use the dev files");
if ((o.judgeUrl === undefined) !== (o.judgeModel === undefined)) throw new Error("--judge-url and --judge-model go together");

const Row = z.object({
  id: z.string(),
  prompt: z.string(),
  weak_response: z.string(),
  strong_response: z.string(),
  weak_correct: z.boolean(),
  strong_correct: z.boolean(),
  category: z.string().optional(),
  dataset: z.string().optional(),
});
type Row = z.infer<typeof Row>;

function readRows(path: string): Row[] {
  const rows: Row[] = [];
  let lineNo = 0;
  for (const line of readFileSync(path, "utf8").split("\n")) {
    lineNo++;
    if (!line.trim()) continue;
    const parsed = Row.safeParse(JSON.parse(line));
    if (!parsed.success) throw new Error(`${path}:${lineNo}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    rows.push(parsed.data);
  }
  return rows;
}

let rows = readRows(o.data);
if (o.limit !== undefined) rows = rows.slice(0, num(o.limit, "--limit", 1));
if (rows.length === 0) throw new Error(`${o.data}: no rows`);

const scorers: Scorer[] = [
  checksScorer(),
  agreementScorer({ textThreshold: num(o.textThreshold, "--text-threshold", 0, 1) }),
  similarityScorer({ threshold: num(o.similarityThreshold, "--similarity-threshold", 0, 1), vote: o.similarityVotes ?? false }),
];
if (o.judgeUrl && o.judgeModel) {
  const client = new OpenAI({ baseURL: o.judgeUrl, apiKey: process.env[o.judgeKeyEnv] ?? "none", maxRetries: 3 });
  const model = o.judgeModel;
  scorers.push(
    judgeScorer({
      model,
      complete: async (messages) => {
        const r = await client.chat.completions.create({ model, messages, temperature: 0, max_tokens: 400 });
        return r.choices[0]?.message.content ?? "";
      },
    }),
  );
}

const inputOf = (r: Row): ScorerInput => ({
  request: { model: o.weakModel, messages: [{ role: "user", content: r.prompt }] },
  reference: r.strong_response,
  candidate: r.weak_response,
  ...(r.category === undefined ? {} : { category: r.category }),
  models: { reference: o.strongModel, candidate: o.weakModel },
});

// Score every row (bounded concurrency, order kept).
const t0 = Date.now();
const results: ScorerResult[][] = new Array<ScorerResult[]>(rows.length);
const bar = process.stderr.isTTY ? new SingleBar({ format: "scoring {bar} {value}/{total} {eta_formatted}", clearOnComplete: true }) : undefined;
bar?.start(rows.length, 0);
let next = 0;
const worker = async (): Promise<void> => {
  for (let i = next++; i < rows.length; i = next++) {
    results[i] = (await runScorers(scorers, inputOf(rows[i]!), { rule })).results;
    bar?.increment();
  }
};
await Promise.all(Array.from({ length: Math.min(rows.length, num(o.concurrency, "--concurrency", 1)) }, worker));
bar?.stop();
const elapsedMs = Date.now() - t0;

// Per scorer: metrics over the rows it gave a verdict on.
const names = scorers.map((s) => s.name);
const itemsOf = (pick: (rs: ScorerResult[]) => { ok: boolean; score: number } | undefined): ScoredItem[] =>
  rows.flatMap((r, i) => {
    const v = pick(results[i]!);
    return v ? [{ accepted: v.ok, score: v.score, weakCorrect: r.weak_correct, strongCorrect: r.strong_correct }] : [];
  });
const status: Record<string, { ran: number; skipped: number; error: number; firstSkip?: string; firstError?: string }> = {};
const metrics: ScorerMetrics[] = [];
for (const name of names) {
  const st: (typeof status)[string] = { ran: 0, skipped: 0, error: 0 };
  status[name] = st;
  for (const rs of results) {
    const r = rs.find((x) => x.scorer === name)!;
    st[r.status] += 1;
    if (r.status === "skipped" && st.firstSkip === undefined) st.firstSkip = r.detail ?? "";
    if (r.status === "error" && st.firstError === undefined) st.firstError = r.detail ?? "";
  }
  const items = itemsOf((rs) => {
    const v = rs.find((x) => x.scorer === name);
    return v?.status === "ran" ? v : undefined;
  });
  if (items.length > 0) metrics.push(scorerMetrics(name, items));
}
// Combined verdicts: as runScorers gives it (voting scorers only), and with every scorer voting.
const voting = scorers.filter((s) => !s.advisory).map((s) => s.name);
metrics.push(scorerMetrics(`combined(${rule}: ${voting.join("+")})`, itemsOf((rs) => combineVerdicts(rs, rule))));
if (voting.length < names.length) {
  metrics.push(scorerMetrics(`combined(${rule}: ${names.join("+")})`, itemsOf((rs) => combineVerdicts(rs, rule, { includeAdvisory: true }))));
}
const simItems = itemsOf((rs) => rs.find((x) => x.scorer === "similarity"));
const sweep = thresholdSweep(simItems, [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);

// Report.
const pct = (x: number | null): string => (x === null ? "n/a" : `${(x * 100).toFixed(1)}%`);
const f3 = (x: number | null): string => (x === null ? "n/a" : x.toFixed(3));
const ref = metrics[0]!.downgrade;
const oracle = rows.filter((r) => r.weak_correct || r.strong_correct).length / rows.length;
const dataset = basename(o.data).replace(/\.jsonl$/, "");
console.log(`${dataset}: ${rows.length} rows; weak = ${o.weakModel}, strong (served) = ${o.strongModel}; scored in ${elapsedMs} ms`);
console.log(`accuracy: all-weak ${pct(ref.allWeak)}  all-strong ${pct(ref.allStrong)}  oracle ${pct(oracle)}  (weak answers correct: ${rows.filter((r) => r.weak_correct).length})`);
const table = new Table({
  head: ["scorer", "n", "accepted", "precision", "recall", "kappa", "AUC", "downgrade acc", "drop (pts)", "random @share", "lost", "gained"],
  style: { head: [], border: [] },
});
for (const m of metrics) {
  table.push([m.scorer, m.n, pct(m.downgrade.acceptedShare), pct(m.precision), pct(m.recall), f3(m.kappa), f3(m.auc), pct(m.downgrade.accuracy), m.downgrade.dropPoints.toFixed(1), pct(m.downgrade.randomSameShare), pct(m.downgrade.lostShare), pct(m.downgrade.gainedShare)]);
}
console.log(table.toString());
console.log(
  "accepted = share of cheap answers the scorer accepts; precision/recall of 'acceptable' vs weak_correct; downgrade acc = " +
    "mean(accepted ? weak_correct : strong_correct), vs all-strong; random @share = accepting the same share at random; " +
    "lost / gained = accepted items where only the strong / only the cheap answer is labelled correct (share of n); drop = lost - gained",
);
const st = new Table({ head: ["similarity threshold", "accepted", "precision", "recall", "kappa", "downgrade acc", "drop (pts)"], style: { head: [], border: [] } });
for (const p of sweep) st.push([p.threshold.toFixed(2), pct(p.acceptedShare), pct(p.precision), pct(p.recall), f3(p.kappa), pct(p.accuracy), p.dropPoints.toFixed(1)]);
console.log(st.toString());
for (const [name, st] of Object.entries(status)) {
  if (st.skipped === 0 && st.error === 0) continue;
  const family = name === "judge" && o.judgeModel ? ` (${o.judgeModel}, family ${modelFamily(o.judgeModel)})` : "";
  console.log(`${name}${family}: ran ${st.ran}, skipped ${st.skipped}, errors ${st.error}` + (st.firstSkip ? `; first skip: ${st.firstSkip}` : "") + (st.firstError ? `; first error: ${st.firstError}` : ""));
}
if (o.json) {
  const report = {
    dataset,
    file: o.data,
    n: rows.length,
    models: { weak: o.weakModel, strong: o.strongModel, judge: o.judgeModel ?? null },
    settings: { rule, similarityThreshold: Number(o.similarityThreshold), similarityVotes: o.similarityVotes ?? false, textThreshold: Number(o.textThreshold) },
    reference: { allWeak: ref.allWeak, allStrong: ref.allStrong, oracle },
    status,
    scorers: metrics,
    similaritySweep: sweep,
    elapsedMs,
  };
  mkdirSync(dirname(o.json), { recursive: true });
  writeFileSync(o.json, JSON.stringify(report, null, 2) + "\n");
  console.log(`wrote ${o.json}`);
}
