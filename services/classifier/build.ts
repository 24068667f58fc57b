// Builds the classifier from config: the rule-based one, or the learned one from its artifact.
import { readFileSync } from "node:fs";
import { ClassifierService } from "#libs/gen/llmgw/classifier/v1/classifier_pb.ts";
import type { BuildContext, BuiltService } from "#libs/server/service-parts.ts";
import { classifierConfigSchema } from "./config.ts";
import { LearnedClassifier } from "./domain/learned.ts";
import { RulesClassifier } from "./domain/rules.ts";
import type { Classifier } from "./domain/types.ts";
import { ClassifierServiceImpl } from "./service.ts";

export function buildClassifier(section: unknown): Classifier {
  const cfg = classifierConfigSchema.parse(section ?? {});
  const thresholds = Object.fromEntries(Object.entries(cfg.thresholds).filter(([, v]) => v !== undefined));
  if (cfg.kind === "learned") {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(cfg.artifact, "utf8"));
    } catch (e) {
      throw new Error(`classifier.artifact ${cfg.artifact}: ${(e as Error).message}`);
    }
    return LearnedClassifier.fromJSON(json, thresholds);
  }
  return new RulesClassifier({ thresholds });
}

export async function buildClassifierService(ctx: BuildContext): Promise<BuiltService<typeof ClassifierService>> {
  const classifier = buildClassifier(ctx.config.classifier);
  ctx.logger.info({ classifier: classifier.name }, "classifier loaded");
  return { service: ClassifierService, impl: new ClassifierServiceImpl(classifier), ready: async () => true, close: async () => {} };
}
