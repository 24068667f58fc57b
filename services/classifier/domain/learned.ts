// Learned classifier: logistic regression over hashed n-grams + rule features (see train.ts).
// strongProbability = sigmoid(w·x + b); tiers via configurable thresholds (default: from the artifact).
import { parseRouterArtifact, type RouterArtifact } from "./artifact.ts";
import { dot, featurize, totalSize } from "./featurize.ts";
import { decisionConfidence, sigmoid, tierFor } from "./tier.ts";
import type { Classification, ClassifyInput, Classifier, TierThresholds } from "./types.ts";

export class LearnedClassifier implements Classifier {
  readonly name: string;
  readonly thresholds: TierThresholds;
  private readonly w: Float64Array;

  constructor(
    readonly artifact: RouterArtifact,
    thresholds: Partial<TierThresholds> = {},
  ) {
    const expected = totalSize(artifact.featureConfig);
    if (artifact.weights.length !== expected) {
      throw new Error(`router artifact ${artifact.version}: ${artifact.weights.length} weights, expected ${expected}`);
    }
    this.name = `learned@${artifact.version}`;
    this.thresholds = { ...artifact.thresholds, ...thresholds };
    this.w = Float64Array.from(artifact.weights);
  }

  static fromJSON(json: unknown, thresholds: Partial<TierThresholds> = {}): LearnedClassifier {
    return new LearnedClassifier(parseRouterArtifact(json), thresholds);
  }

  /** P(strong needed) only; cheaper to call in sweeps than classify(). */
  strongProbability(input: ClassifyInput): number {
    return sigmoid(dot(this.w, featurize(input, this.artifact.featureConfig).vector) + this.artifact.bias);
  }

  classify(input: ClassifyInput): Classification {
    const fz = featurize(input, this.artifact.featureConfig);
    const p = sigmoid(dot(this.w, fz.vector) + this.artifact.bias);
    const tier = tierFor(p, fz.features.hasTools, this.thresholds);
    const reasons = [`P(strong needed)=${p.toFixed(3)} vs threshold ${this.thresholds.high.toFixed(3)}`];
    if (fz.features.hasTools) reasons.unshift("tools present → AGENTIC");
    return {
      tier,
      category: fz.category,
      confidence: fz.features.hasTools ? 0.95 : decisionConfidence(p, this.thresholds.high),
      strongProbability: p,
      features: fz.features,
      reasons,
      classifier: this.name,
    };
  }
}
