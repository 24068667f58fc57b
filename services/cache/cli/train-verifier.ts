/**
 * Trains the semantic cache's hit verifier on labelled question pairs of the DEV split only, and writes
 * its weights (a small JSON shipped with the cache) plus the operating threshold.
 *   npm run train:cache-verifier -- --data qqp-dev.jsonl --paraphrases gptcache-paraphrases.jsonl \
 *     --out services/cache/domain/verifier/weights.json
 * Input: {"id","a","b","same"} JSONL pairs. --data: Quora Question Pairs as packaged by GPTCache's benchmark
 * (dev split); --paraphrases: GPTCache's paraphrase mock data (all same: true).
 * Pairs with crc32(id) % 2 === 0 train the model; the other half picks nothing and is only reported,
 * so the printed held-out figures are honest. The threshold is the lowest probability at which the
 * training half's precision stays at or above --target-precision (then checked on the held-out half).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { crc32 } from "node:zlib";
import { Command } from "commander";
import { normalizeText } from "../domain/keys.ts";
import { createLocalEmbedder } from "../domain/local-embedder.ts";
import { fitLogistic, predictLogistic } from "../domain/verifier/logistic.ts";
import { FEATURE_NAMES, pairFeatures } from "../domain/verifier/pair-features.ts";
import { VERIFIER_FORMAT, type VerifierWeights } from "../domain/verifier/hit-verifier.ts";

interface Pair {
  id: string;
  a: string;
  b: string;
  same: boolean;
}

function readPairs(file: string): Pair[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Pair);
}

interface Row {
  x: number[];
  same: boolean;
  train: boolean;
}

/** Precision and recall of "hit when p >= t" over rows. */
function at(ps: number[], rows: Row[], t: number): { precision: number; recall: number; hits: number } {
  let tp = 0;
  let fp = 0;
  let pos = 0;
  rows.forEach((r, i) => {
    if (r.same) pos++;
    if ((ps[i] as number) >= t) {
      if (r.same) tp++;
      else fp++;
    }
  });
  return { precision: tp + fp === 0 ? 1 : tp / (tp + fp), recall: pos === 0 ? 0 : tp / pos, hits: tp + fp };
}

async function main(): Promise<void> {
  const o = new Command()
    .requiredOption("--data <file>", "labelled pairs JSONL (dev split)")
    .option("--paraphrases <file>", "extra all-positive pairs JSONL (dev), half used for training")
    .option("--out <file>", "weights JSON to write")
    .option("--dump <file>", "also write the feature rows as JSONL (for trying other models)")
    .option("--target-precision <p>", "precision the threshold keeps on the training half", Number.parseFloat, 0.97)
    .option("--l2 <x>", "L2 penalty", Number.parseFloat, 1e-3)
    .parse()
    .opts<{ data: string; paraphrases?: string; out?: string; dump?: string; targetPrecision: number; l2: number }>();
  const embedder = createLocalEmbedder();
  const started = performance.now();
  const featureRows = async (pairs: Pair[]): Promise<Row[]> => {
    const out: Row[] = [];
    for (const p of pairs) {
      const a = normalizeText(p.a);
      const b = normalizeText(p.b);
      const [va, vb] = await embedder.embed([a, b]);
      let score = 0;
      for (let d = 0; d < embedder.dim; d++) score += ((va as Float32Array)[d] as number) * ((vb as Float32Array)[d] as number);
      out.push({ x: pairFeatures(b, a, score, embedder), same: p.same, train: crc32(p.id) % 2 === 0 });
    }
    return out;
  };
  const qqp = await featureRows(readPairs(o.data));
  const para = o.paraphrases ? await featureRows(readPairs(o.paraphrases)) : [];
  if (o.dump) writeFileSync(o.dump, [...qqp.map((r) => ({ ...r, set: "qqp" })), ...para.map((r) => ({ ...r, set: "para" }))].map((r) => JSON.stringify(r)).join("\n"));
  const train = [...qqp, ...para].filter((r) => r.train);
  console.log(`features for ${qqp.length + para.length} pairs in ${((performance.now() - started) / 1000).toFixed(1)} s; training on ${train.length}`);
  const model = fitLogistic(FEATURE_NAMES, train.map((r) => r.x), train.map((r) => r.same), { l2: o.l2 });
  const trainQqp = qqp.filter((r) => r.train);
  const heldQqp = qqp.filter((r) => !r.train);
  const heldPara = para.filter((r) => !r.train);
  const pTrain = trainQqp.map((r) => predictLogistic(model, r.x));
  // Lowest threshold keeping the training half's precision at the target: the most recall the bound allows.
  let threshold = 0.99;
  for (let t = 0.99; t >= 0.3; t -= 0.005) {
    const s = at(pTrain, trainQqp, t);
    if (s.hits >= 50 && s.precision >= o.targetPrecision) threshold = t;
  }
  threshold = Math.round(threshold * 1000) / 1000;
  const pHeld = heldQqp.map((r) => predictLogistic(model, r.x));
  const pPara = heldPara.map((r) => predictLogistic(model, r.x));
  console.log(`threshold ${threshold} (training-half precision >= ${o.targetPrecision})`);
  for (const t of [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, threshold]) {
    const tr = at(pTrain, trainQqp, t);
    const he = at(pHeld, heldQqp, t);
    const pa = at(pPara, heldPara, t);
    console.log(`p >= ${t.toFixed(3)}: train P ${tr.precision.toFixed(3)} R ${tr.recall.toFixed(3)} | held-out P ${he.precision.toFixed(3)} R ${he.recall.toFixed(3)} | paraphrases R ${pa.recall.toFixed(3)}`);
  }
  const ranked = model.features.map((f, j) => [f, model.weights[j] as number] as const).sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]));
  console.log(`largest weights: ${ranked.slice(0, 20).map(([f, w]) => `${f} ${w.toFixed(2)}`).join(", ")}`);
  if (o.out) {
    const weights: VerifierWeights = {
      format: VERIFIER_FORMAT,
      embedder: `${embedder.name}@${embedder.version}`,
      trainedOn: "crc32(id) % 2 == 0 half of the dev splits: Quora Question Pairs (GPTCache benchmark packaging) and GPTCache's paraphrase mock data",
      threshold,
      model,
    };
    writeFileSync(o.out, `${JSON.stringify(weights, null, 1)}\n`);
  }
}

await main();
