// npm run train:router -- --data FILE[,FILE...] [--out PATH] [--version V] [--target gain|need|weakfail|soft]
// npm run train:router -- --shadow [--since 30d] [--tenant ID] [--data FILE...]  (shadow-test verdicts
// from the evaluator's database: the tenant's own traffic, optionally beside benchmark files)
import { Command } from "commander";
import { embeddedDatabaseUrl, readSettings } from "#libs/config/settings.ts";
import { openDatabase } from "#libs/sql/open-database.ts";
import { requireSince } from "#libs/time/since.ts";
import { EVALUATOR_MIGRATIONS } from "#services/evaluator/storage/migrations.ts";
import { readShadowExamples } from "./shadow-source.ts";
import { TARGET_KINDS, targetOf, type TargetKind } from "../domain/benchmark.ts";
import { trainRouter, type TrainExample } from "../domain/train.ts";
import { datasetName, readBenchFile, writeJson } from "./bench-io.ts";

const program = new Command()
  .name("train-router")
  .description("Train the learned router (logistic regression over hashed n-grams + rule features)")
  .option("--data <files>", "benchmark JSONL file(s), comma-separated")
  .option("--shadow", "train on stored shadow-test verdicts (the evaluator's shadow_results)")
  .option("--since <when>", "with --shadow: verdicts since (ISO time or 30d / 24h)", "30d")
  .option("--tenant <id>", "with --shadow: only this tenant's verdicts")
  .option("--database-url <url>", "with --shadow: postgres://... or pglite:<dir> (default: the environment's)")
  .option("--schema <schema>", "with --shadow: PostgreSQL schema")
  .option("--min-examples <n>", "with --shadow: refuse to train on fewer requests", "50")
  .option("--out <path>", "artifact path (default services/classifier/models/router-<version>.json)")
  .option("--version <v>", "artifact version", "v1")
  .option("--target <kind>", "training target: need | weakfail | soft | gain", "gain")
  .option("--epochs <n>", "training epochs", "6")
  .option("--l2 <x>", "L2 regularisation", "0.0001")
  .option("--dim <n>", "hash buckets (power of two)", String(1 << 13))
  .parse();

const o = program.opts<{ data?: string; shadow?: boolean; since: string; tenant?: string; databaseUrl?: string; schema?: string; minExamples: string; out?: string; version: string; target: string; epochs: string; l2: string; dim: string }>();
if (!(TARGET_KINDS as readonly string[]).includes(o.target)) throw new Error(`--target must be one of ${TARGET_KINDS.join("|")}, got ${o.target}`);
if (!o.data && !o.shadow) throw new Error("give --data FILE[,FILE...], --shadow, or both");
const target = o.target as TargetKind;
const files = (o.data ?? "").split(",").map((s) => s.trim()).filter(Boolean);
const examples: TrainExample[] = [];
for (const f of files) for (const r of readBenchFile(f)) examples.push({ id: `${r.dataset}:${r.id}`, input: r.input, target: targetOf(r, target) });
const sources = files.map(datasetName);
if (o.shadow) {
  const settings = readSettings(process.env);
  const db = await openDatabase(o.databaseUrl ?? settings.databaseUrl ?? embeddedDatabaseUrl(settings), { ...(o.schema ? { schema: o.schema } : {}), migrations: [EVALUATOR_MIGRATIONS] });
  try {
    const shadow = await readShadowExamples(db.sql, requireSince(o.since), o.tenant ?? "");
    if (shadow.length < Number(o.minExamples)) throw new Error(`only ${shadow.length} shadow-tested requests with a stored prompt since ${o.since} (need ${o.minExamples}; --min-examples to change)`);
    examples.push(...shadow);
    sources.push(`shadow:${o.tenant ?? "all"}:${o.since}:${shadow.length}`);
    console.log(`${shadow.length} shadow-tested requests (mean target ${(shadow.reduce((s, e) => s + e.target, 0) / shadow.length).toFixed(3)})`);
  } finally {
    await db.close();
  }
}

const t0 = Date.now();
const artifact = trainRouter(examples, {
  version: o.version,
  targetName: target,
  sources,
  epochs: Number(o.epochs),
  l2: Number(o.l2),
  featureConfig: { dim: Number(o.dim) },
});
const out = o.out ?? `services/classifier/models/router-${o.version}.json`;
const bytes = writeJson(out, artifact);
console.log(
  `trained ${artifact.version} on ${examples.length} rows (${sources.join(", ")}, target=${target}, mean=${artifact.training.meanTarget}) in ${Date.now() - t0} ms`,
);
console.log(`thresholds high=${artifact.thresholds.high} medium=${artifact.thresholds.medium}; wrote ${out} (${(bytes / 1024).toFixed(0)} KiB)`);
