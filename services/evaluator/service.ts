// EvaluatorService over gRPC: scores an answer on demand and reports the downgrade findings.
import { ConnectError, Code, type ServiceImpl } from "@connectrpc/connect";
import { EvaluatorService } from "#libs/gen/llmgw/evaluator/v1/evaluator_pb.ts";
import { tierFromName } from "#libs/rpc/tier.ts";
import { answerView, requestView } from "./answer-view.ts";
import type { DowngradeStats } from "./domain/downgrade.ts";
import { scoreAnswer } from "./domain/score.ts";

type Impl = ServiceImpl<typeof EvaluatorService>;

export class EvaluatorServiceImpl implements Impl {
  constructor(private readonly stats: DowngradeStats) {}

  evaluate(req: Parameters<Impl["evaluate"]>[0]) {
    let candidate;
    try {
      candidate = answerView(req.answerJson);
    } catch {
      throw new ConnectError("answer_json is not a chat.completion JSON", Code.InvalidArgument);
    }
    if (!candidate) throw new ConnectError("answer_json is required", Code.InvalidArgument);
    const s = scoreAnswer(requestView(req.requestJson), candidate, answerView(req.referenceJson));
    return { ok: s.ok, score: s.score, failures: s.failures };
  }

  getDowngradeReport(req: Parameters<Impl["getDowngradeReport"]>[0]) {
    return {
      findings: this.stats.report(req.tenantId).map((f) => ({
        category: f.category,
        tier: tierFromName(f.tier),
        fromModel: f.from,
        toModel: f.to,
        samples: BigInt(f.samples),
        passRate: f.passRate,
        safe: f.safe,
      })),
    };
  }
}
