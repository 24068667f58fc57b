// Rule-based classifier: hand-set weights over extracted features give a logit for
// P(strong needed); thresholds (sweepable) map it to a tier. No training, microseconds per call.
import { detectCategory } from "./category.ts";
import { featuresAndText } from "./features.ts";
import { decisionConfidence, sigmoid, tierFor } from "./tier.ts";
import type { Category, Classification, ClassifyInput, Classifier, Features, TierThresholds } from "./types.ts";

export interface RuleWeights {
  bias: number;
  category: Record<Category, number>;
  /** per reasoning marker, capped at 5 */
  reasoningMarker: number;
  /** times log2(1 + approxTokens / 50) */
  length: number;
  /** per numeric literal, capped at 12 (multi-step arithmetic) */
  number: number;
  /** per output constraint, capped at 4 */
  constraint: number;
  jsonMode: number;
  followUp: number;
  multiTurn: number;
  /** per extra question beyond the first, capped at 3 */
  extraQuestion: number;
}

export const DEFAULT_RULE_WEIGHTS: RuleWeights = {
  bias: -2.2,
  category: {
    chat: -1.5,
    qa: -0.2,
    summarization: -0.2,
    extraction: 0,
    classification: -0.4,
    translation: -0.2,
    code: 1.0,
    math: 1.0,
    reasoning: 0.8,
    creative: 0.1,
    agentic: 1.0,
  },
  reasoningMarker: 0.25,
  length: 0.3,
  number: 0.08,
  constraint: 0.25,
  jsonMode: 0.3,
  followUp: 0.3,
  multiTurn: 0.2,
  extraQuestion: 0.15,
};

export const DEFAULT_RULE_THRESHOLDS: TierThresholds = { high: 0.4, medium: 0.2 };

export interface RulesOptions {
  weights?: Partial<RuleWeights>;
  thresholds?: Partial<TierThresholds>;
}

export class RulesClassifier implements Classifier {
  readonly name = "rules@1";
  readonly weights: RuleWeights;
  readonly thresholds: TierThresholds;

  constructor(opts: RulesOptions = {}) {
    this.weights = { ...DEFAULT_RULE_WEIGHTS, ...opts.weights };
    this.thresholds = { ...DEFAULT_RULE_THRESHOLDS, ...opts.thresholds };
  }

  classify(input: ClassifyInput): Classification {
    const { features, text: full, last } = featuresAndText(input);
    const cat = detectCategory(last, full, features);
    const { z, reasons } = ruleLogit(features, cat.category, this.weights);
    const p = sigmoid(z);
    const tier = tierFor(p, features.hasTools, this.thresholds);
    if (features.hasTools) reasons.unshift("tools present → AGENTIC");
    return {
      tier,
      category: cat.category,
      confidence: features.hasTools ? 0.95 : decisionConfidence(p, this.thresholds.high),
      strongProbability: p,
      features,
      reasons,
      classifier: this.name,
    };
  }
}

/** The rule score, exposed so the learned model can reuse it as a feature. */
export function ruleLogit(f: Features, category: Category, w: RuleWeights): { z: number; reasons: string[] } {
  const reasons: string[] = [];
  let z = w.bias;
  const cw = w.category[category];
  z += cw;
  if (cw !== 0) reasons.push(`category ${category} (${cw > 0 ? "+" : ""}${cw})`);
  const rm = Math.min(5, f.reasoningMarkers);
  if (rm > 0) {
    z += rm * w.reasoningMarker;
    reasons.push(`${rm} reasoning marker(s)`);
  }
  const len = Math.log2(1 + f.approxTokens / 50);
  z += len * w.length;
  if (f.approxTokens > 400) reasons.push(`long prompt (~${f.approxTokens} tokens)`);
  const nums = Math.min(12, f.numberCount);
  z += nums * w.number;
  if (nums >= 4) reasons.push(`${f.numberCount} numbers (multi-step arithmetic?)`);
  const cons = Math.min(4, f.constraintMarkers);
  if (cons > 0) {
    z += cons * w.constraint;
    reasons.push(`${cons} output constraint(s)`);
  }
  if (f.jsonMode) {
    z += w.jsonMode;
    reasons.push("JSON mode");
  }
  if (f.followUp) {
    z += w.followUp;
    reasons.push("follow-up on earlier turn");
  }
  if (f.turns > 1) z += w.multiTurn;
  const xq = Math.min(3, Math.max(0, f.questionCount - 1));
  if (xq > 0) {
    z += xq * w.extraQuestion;
    reasons.push(`${f.questionCount} questions`);
  }
  return { z, reasons };
}
