// The verdict on one shadow test: every scorer runs on the cheap answer against the served one, each
// verdict is kept, and the combined one (checks + agreement by default) decides. Measured on GSM8K dev
// (npm run eval:evaluator): kappa 0.84 against the recorded correctness, 98% precision.
import type OpenAI from "openai";
import type { AnswerView } from "./score.ts";
import { defaultScorers, runScorers, type Scorer, type ScoreReport } from "./scorers/index.ts";

export interface ShadowVerdict {
  ok: boolean;
  score: number;
  /** `<scorer>: <detail>` for every scorer that said no (or errored). */
  failures: string[];
  report: ScoreReport;
}

export interface ShadowCase {
  request: OpenAI.Chat.ChatCompletionCreateParams;
  served: AnswerView;
  candidate: AnswerView;
  category: string;
  servedModel: string;
  candidateModel: string;
}

export async function judgeShadow(c: ShadowCase, scorers: readonly Scorer[] = defaultScorers()): Promise<ShadowVerdict> {
  const report = await runScorers(scorers, {
    request: c.request,
    reference: c.served.content ?? "",
    candidate: c.candidate.content ?? "",
    category: c.category,
    candidateMeta: { finishReason: c.candidate.finishReason, toolCalls: c.candidate.toolCalls },
    referenceMeta: { finishReason: c.served.finishReason, toolCalls: c.served.toolCalls },
    models: { reference: c.servedModel, candidate: c.candidateModel },
  });
  const failures = report.results.filter((r) => !r.advisory && r.status !== "skipped" && !r.ok).map((r) => `${r.scorer}: ${r.detail ?? r.status}`);
  return { ok: report.combined.ok, score: report.combined.score, failures, report };
}
