// npm run train:router -- --data FILE[,FILE...] [--out PATH] [--version V] [--target gain|need|weakfail|soft]
import { Command } from "commander";
import { TARGET_KINDS, targetOf, type TargetKind } from "../domain/benchmark.ts";
import { trainRouter, type TrainExample } from "../domain/train.ts";
import { datasetName, readBenchFile, writeJson } from "./bench-io.ts";

const program = new Command()
  .name("train-router")
  .description("Train the learned router (logistic regression over hashed n-grams + rule features)")
  .requiredOption("--data <files>", "benchmark JSONL file(s), comma-separated")
  .option("--out <path>", "artifact path (default services/classifier/models/router-<version>.json)")
  .option("--version <v>", "artifact version", "v1")
  .option("--target <kind>", "training target: need | weakfail | soft | gain", "gain")
  .option("--epochs <n>", "training epochs", "6")
  .option("--l2 <x>", "L2 regularisation", "0.0001")
  .option("--dim <n>", "hash buckets (power of two)", String(1 << 13))
  .parse();

const o = program.opts<{ data: string; out?: string; version: string; target: string; epochs: string; l2: string; dim: string }>();
if (!(TARGET_KINDS as readonly string[]).includes(o.target)) throw new Error(`--target must be one of ${TARGET_KINDS.join("|")}, got ${o.target}`);
const target = o.target as TargetKind;
const files = o.data.split(",").map((s) => s.trim()).filter(Boolean);
const examples: TrainExample[] = [];
for (const f of files) for (const r of readBenchFile(f)) examples.push({ id: `${r.dataset}:${r.id}`, input: r.input, target: targetOf(r, target) });

const t0 = Date.now();
const artifact = trainRouter(examples, {
  version: o.version,
  targetName: target,
  sources: files.map(datasetName),
  epochs: Number(o.epochs),
  l2: Number(o.l2),
  featureConfig: { dim: Number(o.dim) },
});
const out = o.out ?? `services/classifier/models/router-${o.version}.json`;
const bytes = writeJson(out, artifact);
console.log(
  `trained ${artifact.version} on ${examples.length} rows (${files.map(datasetName).join(", ")}, target=${target}, mean=${artifact.training.meanTarget}) in ${Date.now() - t0} ms`,
);
console.log(`thresholds high=${artifact.thresholds.high} medium=${artifact.thresholds.medium}; wrote ${out} (${(bytes / 1024).toFixed(0)} KiB)`);
