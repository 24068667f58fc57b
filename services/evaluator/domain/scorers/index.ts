// Scorers of a cheap answer against the served one, behind one interface (see types.ts), and the
// runner that keeps every verdict plus a combined one (run.ts).
export { ScorerSkip, lastUserText, messageText, wantsJson } from "./types.ts";
export type { AnswerMeta, Scorer, ScorerInput, ScorerRequest, ScorerVerdict } from "./types.ts";
export { checksScorer, MATH_CATEGORY } from "./checks.ts";
export type { ChecksOptions } from "./checks.ts";
export { agreementKind, agreementScorer, CHOICE_CATEGORY, isNumericQuestion } from "./agreement.ts";
export type { AgreementKind, AgreementOptions } from "./agreement.ts";
export { DEFAULT_SIMILARITY_THRESHOLD, similarityScorer } from "./similarity.ts";
export type { SimilarityScorerOptions } from "./similarity.ts";
export { JUDGE_SYSTEM, judgeMessages, judgeScorer, modelFamily, parseJudgeVerdict, sameFamily } from "./judge.ts";
export type { JudgeChoice, JudgeComplete, JudgeMessages, JudgeOptions } from "./judge.ts";
export { COMBINE_RULES, combineVerdicts, defaultScorers, runScorers } from "./run.ts";
export type { CombinedVerdict, CombineRule, DefaultScorersOptions, ScoreReport, ScorerResult, ScorerStatus } from "./run.ts";
