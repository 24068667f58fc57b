// The learned router's versioned artifact: plain JSON, validated on load (fail fast on a bad file).
import { z } from "zod";
import { CATEGORIES, type Category } from "./types.ts";
import type { FeatureConfig } from "./featurize.ts";
import type { RuleWeights } from "./rules.ts";

export interface RouterArtifact {
  format: "llmgw-router";
  version: string;
  trainedAt: string;
  /** sha256 of the training rows (ids + targets), so a model can be traced to its data. */
  dataHash: string;
  featureConfig: FeatureConfig;
  training: { n: number; meanTarget: number; target: string; epochs: number; l2: number; sources: string[] };
  thresholds: { high: number; medium: number };
  bias: number;
  /** Dense weights, length dim + dense features; rounded to keep the file small. */
  weights: number[];
}

const categoryWeights = z.object(
  Object.fromEntries(CATEGORIES.map((c) => [c, z.number()])) as Record<Category, z.ZodNumber>,
);

const ruleWeightsSchema: z.ZodType<RuleWeights> = z.object({
  bias: z.number(),
  category: categoryWeights,
  reasoningMarker: z.number(),
  length: z.number(),
  number: z.number(),
  constraint: z.number(),
  jsonMode: z.number(),
  followUp: z.number(),
  multiTurn: z.number(),
  extraQuestion: z.number(),
});

export const routerArtifactSchema = z.object({
  format: z.literal("llmgw-router"),
  version: z.string().min(1),
  trainedAt: z.string(),
  dataHash: z.string(),
  featureConfig: z.object({
    dim: z.number().int().positive().refine((d) => (d & (d - 1)) === 0, "dim must be a power of two"),
    wordNgrams: z.number().int().min(1).max(2),
    charNgrams: z.array(z.number().int().min(2).max(8)),
    ruleFeatures: z.boolean(),
    ruleWeights: ruleWeightsSchema,
  }),
  training: z.object({
    n: z.number(),
    meanTarget: z.number(),
    target: z.string(),
    epochs: z.number(),
    l2: z.number(),
    sources: z.array(z.string()),
  }),
  thresholds: z.object({ high: z.number(), medium: z.number() }),
  bias: z.number(),
  weights: z.array(z.number()),
});

export function parseRouterArtifact(json: unknown): RouterArtifact {
  const a = routerArtifactSchema.parse(json);
  return a as RouterArtifact;
}
