// Public surface of the classifier domain, for the gRPC service and the router.
export type { Category, Classification, ClassifyInput, Classifier, Features, Role, TierThresholds } from "./types.ts";
export { CATEGORIES } from "./types.ts";
export { extractFeatures, guessLanguage, promptText, lastUserText } from "./features.ts";
export { detectCategory, type CategoryResult } from "./category.ts";
export { RulesClassifier, DEFAULT_RULE_WEIGHTS, DEFAULT_RULE_THRESHOLDS, type RuleWeights, type RulesOptions } from "./rules.ts";
export { LearnedClassifier } from "./learned.ts";
export { parseRouterArtifact, type RouterArtifact } from "./artifact.ts";
export { trainRouter, DEFAULT_FEATURE_CONFIG, type TrainExample, type TrainOptions } from "./train.ts";
export { tierFor, needsStrong } from "./tier.ts";
export { DEFAULT_ROUTER_MODEL_URL, DEFAULT_ROUTER_VERSION } from "./model-path.ts";
