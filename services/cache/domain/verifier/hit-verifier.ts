import { readFileSync } from "node:fs";
import { z } from "zod";
import { projectPath } from "#libs/config/project-root.ts";
import { predictLogistic, type LogisticModel } from "./logistic.ts";
import { FEATURE_NAMES, pairFeatures, type WordLookup } from "./pair-features.ts";

/**
 * Decides whether a nearest-neighbour candidate may be served: the probability that the cached question
 * asks the same thing as the new one, from the pair's features (pair-features.ts), by a logistic model
 * trained on the dev split only (services/cache/cli/train-verifier.ts). The weights belong to one
 * embedder version: with any other embedder the verifier is not used (its `score` feature would mean
 * something else), and the engine falls back to thresholds and the precision guard.
 */
export const VERIFIER_FORMAT = "llmgw-hit-verifier/1";

const weightsSchema = z.object({
  format: z.literal(VERIFIER_FORMAT),
  embedder: z.string(),
  trainedOn: z.string(),
  threshold: z.number().min(0).max(1),
  model: z.object({
    features: z.array(z.string()),
    mean: z.array(z.number()),
    std: z.array(z.number().positive()),
    weights: z.array(z.number()),
    bias: z.number(),
  }),
});

export type VerifierWeights = z.infer<typeof weightsSchema>;

export interface VerifierDecision {
  accept: boolean;
  probability: number;
}

export class HitVerifier {
  readonly embedderId: string;
  /** Probability from which a candidate is served, unless a category sets its own. */
  readonly threshold: number;
  private readonly model: LogisticModel;

  constructor(
    weights: VerifierWeights,
    private readonly words: WordLookup,
  ) {
    const names = weights.model.features;
    if (names.length !== FEATURE_NAMES.length || names.some((n, i) => n !== FEATURE_NAMES[i])) {
      throw new Error(`hit verifier weights list features [${names.join(",")}], this build computes [${FEATURE_NAMES.join(",")}]`);
    }
    const d = names.length;
    if (weights.model.mean.length !== d || weights.model.std.length !== d || weights.model.weights.length !== d) throw new Error("hit verifier weights: one mean, std and weight per feature");
    this.embedderId = weights.embedder;
    this.threshold = weights.threshold;
    this.model = weights.model;
  }

  probability(query: string, candidate: string, score: number): number {
    return predictLogistic(this.model, pairFeatures(query, candidate, score, this.words));
  }

  decide(query: string, candidate: string, score: number, threshold = this.threshold): VerifierDecision {
    const probability = this.probability(query, candidate, score);
    return { accept: probability >= threshold, probability };
  }
}

export function parseVerifierWeights(json: string): VerifierWeights {
  return weightsSchema.parse(JSON.parse(json));
}

/** The weights shipped beside this file (found from the project root: the bundles in dist/ run elsewhere). */
export function loadShippedVerifierWeights(): VerifierWeights {
  return parseVerifierWeights(readFileSync(projectPath("services", "cache", "domain", "verifier", "weights.json"), "utf8"));
}
