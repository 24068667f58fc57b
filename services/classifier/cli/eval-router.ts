// npm run eval:router -- --data FILE [--train FILE[,FILE...]] [--model PATH] [--json OUT]
// Without --train/--model the learned router is trained on one half of --data (hashed by question)
// and everything is evaluated on the other half, so the learned router never sees its test rows.
import { loadavg } from "node:os";
import Table from "cli-table3";
import { Command } from "commander";
import { TARGET_KINDS, isHeldOut, targetOf, type BenchRow, type TargetKind } from "../domain/benchmark.ts";
import { evaluateRouters } from "../domain/evaluate.ts";
import { LearnedClassifier } from "../domain/learned.ts";
import { RulesClassifier } from "../domain/rules.ts";
import { trainRouter } from "../domain/train.ts";
import type { Classifier } from "../domain/types.ts";
import { datasetName, readArtifact, readBenchFile, writeJson } from "./bench-io.ts";

const program = new Command()
  .name("eval-router")
  .description("Evaluate routers (rules, learned, random, oracle, cascade) on a router benchmark file")
  .requiredOption("--data <file>", "benchmark JSONL to evaluate on")
  .option("--train <files>", "train the learned router on these files (comma-separated) instead of a split of --data")
  .option("--model <path>", "evaluate a saved artifact instead of training (beware: must not be trained on --data)")
  .option("--target <kind>", "training target: gain | need | weakfail | soft", "gain")
  .option("--json <out>", "write the JSON report here")
  .option("--curve", "print every router's curve")
  .option("--curve-points <n>", "curve points kept per router in the JSON report", "21")
  .option("--rules-high <p>", "rules: strongProbability threshold for HIGH (default operating point)")
  .option("--learned-high <p>", "learned: strongProbability threshold for HIGH (default: the artifact's)")
  .parse();

const o = program.opts<{
  data: string;
  train?: string;
  model?: string;
  target: string;
  json?: string;
  curve?: boolean;
  curvePoints: string;
  rulesHigh?: string;
  learnedHigh?: string;
}>();
const num = (v: string | undefined, name: string): number | undefined => {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isFinite(x)) throw new Error(`${name} must be a number, got ${v}`);
  return x;
};
const rulesHigh = num(o.rulesHigh, "--rules-high");
const learnedHigh = num(o.learnedHigh, "--learned-high");
if (!(TARGET_KINDS as readonly string[]).includes(o.target)) throw new Error(`--target must be one of ${TARGET_KINDS.join("|")}`);
const target = o.target as TargetKind;
const all = readBenchFile(o.data);
let evalRows: BenchRow[] = all;
let trainRows: BenchRow[] = [];
let trainDesc: string;
if (o.model) {
  trainDesc = `artifact ${o.model}`;
} else if (o.train) {
  const files = o.train.split(",").map((s) => s.trim()).filter(Boolean);
  for (const f of files) trainRows.push(...readBenchFile(f));
  trainDesc = `trained on ${files.map(datasetName).join(", ")} (${trainRows.length} rows)`;
} else {
  evalRows = all.filter((r) => isHeldOut(r.group));
  trainRows = all.filter((r) => !isHeldOut(r.group));
  trainDesc = `trained on the other half of ${datasetName(o.data)} (${trainRows.length} rows, split by hashed question)`;
}

const t0 = Date.now();
const classifiers: Classifier[] = [new RulesClassifier(rulesHigh === undefined ? {} : { thresholds: { high: rulesHigh } })];
const learnedThresholds = learnedHigh === undefined ? {} : { high: learnedHigh };
if (o.model) classifiers.push(new LearnedClassifier(readArtifact(o.model), learnedThresholds));
else {
  const artifact = trainRouter(
    trainRows.map((r) => ({ id: `${r.dataset}:${r.id}`, input: r.input, target: targetOf(r, target) })),
    { version: "eval", targetName: target, trainedAt: "eval" },
  );
  classifiers.push(new LearnedClassifier(artifact, learnedThresholds));
}
const trainMs = Date.now() - t0;
const rep = evaluateRouters(evalRows, { dataset: datasetName(o.data), classifiers, curvePoints: Number(o.curvePoints) });

const pct = (x: number | null): string => (x === null ? "n/a" : `${(x * 100).toFixed(1)}%`);
console.log(`${rep.dataset}: evaluated on ${rep.n} rows; learned ${trainDesc}; training took ${trainMs} ms`);
console.log(`reference quality: all-weak ${rep.reference.weak.toFixed(4)}  all-strong ${rep.reference.strong.toFixed(4)}  oracle ${rep.reference.oracle.toFixed(4)}`);
const table = new Table({ head: ["router", "strong share", "quality", "PGR", "CPT(50%)", "CPT(80%)", "APGR", "savings@CPT50 vs random"], style: { head: [], border: [] } });
for (const r of rep.routers) {
  table.push([
    r.name,
    pct(r.strong_share),
    r.quality.toFixed(4),
    r.pgr.toFixed(3),
    pct(r.cpt50),
    pct(r.cpt80),
    r.apgr === null ? "n/a" : r.apgr.toFixed(3),
    r.savings50_vs_random === null ? "n/a" : `${r.savings50_vs_random.toFixed(2)}x`,
  ]);
}
console.log(table.toString());
const tt = new Table({ head: ["classifier", "p50 µs", "p99 µs", "mean µs", "samples"], style: { head: [], border: [] } });
for (const [name, t] of Object.entries(rep.timing)) tt.push([name, t.p50_us, t.p99_us, t.mean_us, t.samples]);
console.log(tt.toString());
// Wall-clock timing: on a loaded machine p99 measures the scheduler, so say how loaded it was.
const load1 = Math.round((loadavg()[0] ?? 0) * 100) / 100;
console.log(`classification time is wall-clock per call, single thread; 1-min load average ${load1}`);
for (const r of rep.routers) {
  if (r.verifier) {
    console.log(`${r.name}: verifier escalated ${r.verifier.escalated} answers; precision ${pct(r.verifier.precision)} (escalated weak answers that were wrong), recall ${pct(r.verifier.recall)} of wrong weak answers`);
  }
}
if (o.curve) {
  for (const r of rep.routers) {
    if (r.curve.length < 3) continue;
    console.log(`${r.name} curve (share → quality): ` + r.curve.map((p) => `${pct(p.share)}→${p.quality.toFixed(3)}`).join("  "));
  }
}
if (o.json) {
  writeJson(o.json, { ...rep, learned_training: trainDesc, loadavg1: load1 });
  console.log(`wrote ${o.json}`);
}
