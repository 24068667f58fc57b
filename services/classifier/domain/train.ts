// Training of the learned router: L2-regularised logistic regression with AdaGrad on sparse vectors,
// soft targets allowed. Thresholds are set from out-of-fold predictions (not in-sample ones, which
// a hashed n-gram model overfits) so the default operating point carries over to unseen prompts.
import { createHash } from "node:crypto";
import type { RouterArtifact } from "./artifact.ts";
import { dot, featurize, totalSize, type FeatureConfig, type SparseVector } from "./featurize.ts";
import { DEFAULT_RULE_WEIGHTS } from "./rules.ts";
import { sigmoid } from "./tier.ts";
import type { ClassifyInput } from "./types.ts";
import { createRng } from "#libs/random/rng.ts";

export interface TrainExample {
  id: string;
  input: ClassifyInput;
  /** 0..1: 1 = the cheap model does not suffice. Soft values allowed. */
  target: number;
}

// Unigrams + rule features: bigrams and char n-grams measured no better on held-out halves of
// the dev files (4 splits averaged) and double the size; see the classifier report.
export const DEFAULT_FEATURE_CONFIG: FeatureConfig = {
  dim: 1 << 13,
  wordNgrams: 1,
  charNgrams: [],
  ruleFeatures: true,
  ruleWeights: DEFAULT_RULE_WEIGHTS,
};

export interface TrainOptions {
  featureConfig?: Partial<FeatureConfig>;
  epochs?: number;
  l2?: number;
  learningRate?: number;
  seed?: number;
  version?: string;
  trainedAt?: string;
  targetName?: string;
  sources?: string[];
  /** Share of traffic the default threshold sends to the strong model; default = mean target. */
  strongShare?: number;
  /** Folds for out-of-fold threshold calibration (>= 2). */
  folds?: number;
}

export interface LogRegModel {
  w: Float64Array;
  bias: number;
}

/** Deterministic PRNG (mulberry32) so training is reproducible. */
export const rng = createRng;

function shuffled(n: number, rand: () => number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

export function trainLogReg(
  xs: SparseVector[],
  ys: number[],
  size: number,
  opts: { epochs: number; l2: number; learningRate: number; seed: number },
): LogRegModel {
  const w = new Float64Array(size);
  const g2 = new Float64Array(size).fill(1e-8);
  let bias = 0;
  let gb2 = 1e-8;
  const rand = rng(opts.seed);
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    for (const i of shuffled(xs.length, rand)) {
      const x = xs[i]!;
      const err = sigmoid(dot(w, x) + bias) - ys[i]!;
      for (let k = 0; k < x.idx.length; k++) {
        const j = x.idx[k]!;
        const g = err * x.val[k]! + opts.l2 * w[j]!;
        g2[j]! += g * g;
        w[j]! -= (opts.learningRate * g) / Math.sqrt(g2[j]!);
      }
      gb2 += err * err;
      bias -= (opts.learningRate * err) / Math.sqrt(gb2);
    }
  }
  return { w, bias };
}

/** Smallest threshold t such that the share of scores >= t is at most `share`. */
export function thresholdForShare(scores: number[], share: number): number {
  if (scores.length === 0) return 0.5;
  const sorted = [...scores].sort((a, b) => b - a);
  const k = Math.max(0, Math.min(sorted.length - 1, Math.round(share * sorted.length) - 1));
  if (share <= 0) return Math.min(1, sorted[0]! + 1e-9);
  return sorted[k]!;
}

export function dataHash(examples: TrainExample[]): string {
  const h = createHash("sha256");
  for (const e of examples) h.update(`${e.id}\t${e.target}\n`);
  return h.digest("hex").slice(0, 16);
}

const round = (x: number): number => Math.round(x * 1e4) / 1e4;

export function trainRouter(examples: TrainExample[], opts: TrainOptions = {}): RouterArtifact {
  if (examples.length === 0) throw new Error("trainRouter: no examples");
  const cfg: FeatureConfig = { ...DEFAULT_FEATURE_CONFIG, ...opts.featureConfig };
  const size = totalSize(cfg);
  const hp = {
    epochs: opts.epochs ?? 6,
    l2: opts.l2 ?? 1e-4,
    learningRate: opts.learningRate ?? 0.2,
    seed: opts.seed ?? 1,
  };
  const xs = examples.map((e) => featurize(e.input, cfg).vector);
  const ys = examples.map((e) => Math.min(1, Math.max(0, e.target)));
  const meanTarget = ys.reduce((a, b) => a + b, 0) / ys.length;
  const share = opts.strongShare ?? meanTarget;

  // Out-of-fold scores for the default thresholds.
  const folds = Math.max(2, opts.folds ?? 3);
  const oof = new Array<number>(xs.length).fill(0);
  if (xs.length >= folds * 2) {
    const order = shuffled(xs.length, rng(hp.seed + 7));
    const foldOf = new Int32Array(xs.length);
    order.forEach((i, r) => (foldOf[i] = r % folds));
    for (let f = 0; f < folds; f++) {
      const trIdx: number[] = [];
      for (let i = 0; i < xs.length; i++) if (foldOf[i] !== f) trIdx.push(i);
      const m = trainLogReg(trIdx.map((i) => xs[i]!), trIdx.map((i) => ys[i]!), size, hp);
      for (let i = 0; i < xs.length; i++) if (foldOf[i] === f) oof[i] = sigmoid(dot(m.w, xs[i]!) + m.bias);
    }
  }
  const model = trainLogReg(xs, ys, size, hp);
  const scores = xs.length >= folds * 2 ? oof : xs.map((x) => sigmoid(dot(model.w, x) + model.bias));
  const high = thresholdForShare(scores, share);
  const medium = Math.min(high, thresholdForShare(scores, Math.min(1, share * 2)));

  return {
    format: "llmgw-router",
    version: opts.version ?? "v1",
    trainedAt: opts.trainedAt ?? new Date().toISOString(),
    dataHash: dataHash(examples),
    featureConfig: cfg,
    training: {
      n: examples.length,
      meanTarget: round(meanTarget),
      target: opts.targetName ?? "custom",
      epochs: hp.epochs,
      l2: hp.l2,
      sources: opts.sources ?? [],
    },
    thresholds: { high: round(high), medium: round(medium) },
    bias: round(model.bias),
    weights: Array.from(model.w, round),
  };
}
