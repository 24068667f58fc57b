// Runs a list of scorers on one input and keeps every scorer's verdict, plus a combined verdict.
//
// Combined verdict (rule "all", the default): only voting scorers that gave a verdict count (status
// "ran"; "skipped" = the scorer declined with ScorerSkip, "error" = it threw, recorded with its
// message; advisory scorers, e.g. similarity by default, are recorded but do not vote).
//   all      – ok when every counted scorer says ok (any one vetoes); score = the lowest score
//   majority – ok when more than half say ok; score = the mean score
//   any      – ok when at least one says ok; score = the highest score
// With no counted scorer the combined verdict is not ok, score 0. `incomplete` is set when a scorer
// errored, so a caller can retry rather than record a verdict that misses a vote.
import { checksScorer, type ChecksOptions } from "./checks.ts";
import { agreementScorer, type AgreementOptions } from "./agreement.ts";
import { judgeScorer, type JudgeOptions } from "./judge.ts";
import { similarityScorer, type SimilarityScorerOptions } from "./similarity.ts";
import { clamp01, round3, ScorerSkip, type Scorer, type ScorerInput } from "./types.ts";

export type ScorerStatus = "ran" | "skipped" | "error";

export interface ScorerResult {
  scorer: string;
  status: ScorerStatus;
  /** Recorded, not counted in the combined verdict. */
  advisory: boolean;
  /** false unless status is "ran". */
  ok: boolean;
  /** 0..1; 0 unless status is "ran". */
  score: number;
  detail?: string;
  ms: number;
}

export type CombineRule = "all" | "majority" | "any";
export const COMBINE_RULES: readonly CombineRule[] = ["all", "majority", "any"];

export interface CombinedVerdict {
  ok: boolean;
  score: number;
  rule: CombineRule;
  /** Names of the scorers whose verdicts were combined. */
  counted: string[];
  /** A scorer errored: the verdict misses its vote. */
  incomplete: boolean;
}

export interface ScoreReport {
  results: ScorerResult[];
  combined: CombinedVerdict;
}

export function combineVerdicts(results: readonly ScorerResult[], rule: CombineRule = "all", options: { includeAdvisory?: boolean } = {}): CombinedVerdict {
  const voters = options.includeAdvisory ? results : results.filter((r) => !r.advisory);
  const ran = voters.filter((r) => r.status === "ran");
  const incomplete = voters.some((r) => r.status === "error");
  const counted = ran.map((r) => r.scorer);
  if (ran.length === 0) return { ok: false, score: 0, rule, counted, incomplete };
  const oks = ran.filter((r) => r.ok).length;
  const scores = ran.map((r) => r.score);
  switch (rule) {
    case "all":
      return { ok: oks === ran.length, score: Math.min(...scores), rule, counted, incomplete };
    case "majority":
      return { ok: oks * 2 > ran.length, score: round3(scores.reduce((s, x) => s + x, 0) / ran.length), rule, counted, incomplete };
    case "any":
      return { ok: oks > 0, score: Math.max(...scores), rule, counted, incomplete };
  }
}

async function runOne(scorer: Scorer, input: ScorerInput): Promise<ScorerResult> {
  const t0 = performance.now();
  const ms = (): number => Math.round((performance.now() - t0) * 1000) / 1000;
  const advisory = scorer.advisory ?? false;
  try {
    const v = await scorer.score(input);
    const r: ScorerResult = { scorer: scorer.name, status: "ran", advisory, ok: v.ok, score: round3(clamp01(v.score)), ms: ms() };
    if (v.detail !== undefined) r.detail = v.detail;
    return r;
  } catch (e) {
    const skipped = e instanceof ScorerSkip;
    return { scorer: scorer.name, status: skipped ? "skipped" : "error", advisory, ok: false, score: 0, detail: e instanceof Error ? e.message : String(e), ms: ms() };
  }
}

/** Runs every scorer (concurrently) on the input; results in the scorers' order. Never throws for a scorer's failure. */
export async function runScorers(scorers: readonly Scorer[], input: ScorerInput, options: { rule?: CombineRule } = {}): Promise<ScoreReport> {
  const results = await Promise.all(scorers.map((s) => runOne(s, input)));
  return { results, combined: combineVerdicts(results, options.rule ?? "all") };
}

export interface DefaultScorersOptions {
  checks?: ChecksOptions;
  agreement?: AgreementOptions;
  similarity?: SimilarityScorerOptions;
  /** Adds the LLM judge when given. */
  judge?: JudgeOptions;
}

/** checks, agreement, similarity (advisory unless options.similarity.vote), and the judge when its options are given. */
export function defaultScorers(options: DefaultScorersOptions = {}): Scorer[] {
  const list: Scorer[] = [checksScorer(options.checks), agreementScorer(options.agreement), similarityScorer(options.similarity)];
  if (options.judge) list.push(judgeScorer(options.judge));
  return list;
}
