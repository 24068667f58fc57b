// The classifier's section of llmgw.yaml.
import { z } from "zod";

export const classifierConfigSchema = z
  .object({
    // "rules" is microseconds and needs no artifact; "learned" loads a trained router artifact.
    kind: z.enum(["rules", "learned"]).default("rules"),
    artifact: z.string().default("services/classifier/models/router-v1.json"),
    // Override the tier thresholds on P(strong needed); unset = the classifier's own defaults.
    thresholds: z.object({ high: z.number().min(0).max(1).optional(), medium: z.number().min(0).max(1).optional() }).strict().default({}),
  })
  .strict();

export type ClassifierConfig = z.infer<typeof classifierConfigSchema>;
