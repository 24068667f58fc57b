// ClassifierService over gRPC: maps the proto to the domain classifier and back. No I/O.
import type { ServiceImpl } from "@connectrpc/connect";
import { ClassifierService, type ClassifyBatchResponse, type ClassifyResponse } from "#libs/gen/llmgw/classifier/v1/classifier_pb.ts";
import { tierFromName } from "#libs/rpc/tier.ts";
import type { Classifier, ClassifyInput, Role } from "./domain/types.ts";

const ROLES = new Set<Role>(["system", "user", "assistant", "tool", "developer"]);

export class ClassifierServiceImpl implements ServiceImpl<typeof ClassifierService> {
  constructor(private readonly classifier: Classifier) {}

  // A whole message ($typeName and every field): the in-process client passes it on without a create().
  classify(req: Parameters<ServiceImpl<typeof ClassifierService>["classify"]>[0]): ClassifyResponse {
    return this.one(req);
  }

  classifyBatch(req: Parameters<ServiceImpl<typeof ClassifierService>["classifyBatch"]>[0]): ClassifyBatchResponse {
    return { $typeName: "llmgw.classifier.v1.ClassifyBatchResponse", results: req.requests.map((r) => this.one(r)) };
  }

  private one(req: Parameters<ServiceImpl<typeof ClassifierService>["classify"]>[0]): ClassifyResponse {
    const input: ClassifyInput = {
      messages: req.messages.map((m) => ({ role: ROLES.has(m.role as Role) ? (m.role as Role) : "user", content: m.content })),
      hasTools: req.hasTools,
      jsonMode: req.jsonMode,
      maxTokens: req.maxTokens || undefined,
    };
    const c = this.classifier.classify(input);
    const features: Record<string, string> = {};
    for (const [k, v] of Object.entries(c.features)) features[k] = String(v);
    return {
      $typeName: "llmgw.classifier.v1.ClassifyResponse",
      tier: tierFromName(c.tier),
      category: c.category,
      confidence: c.confidence,
      strongProbability: c.strongProbability,
      features,
      reasons: c.reasons,
      classifier: c.classifier,
    };
  }
}
