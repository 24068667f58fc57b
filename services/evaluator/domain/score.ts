// Scores a candidate (cheaper) answer against the answer actually served. Label-free: the verifiers
// catch broken answers; agreement with the served answer (final numbers, then word overlap) stands in
// for correctness when the served model is the stronger one.
import { verifyAnswer, type VerifyRequest } from "#libs/quality/verify.ts";

export interface AnswerView {
  content: string | null;
  finishReason: string;
  toolCalls: { name: string; arguments: string }[];
}

export interface Score {
  ok: boolean;
  score: number;
  failures: string[];
}

export function scoreAnswer(req: VerifyRequest, candidate: AnswerView, reference?: AnswerView): Score {
  const v = verifyAnswer({ request: req, answer: candidate });
  const failures = [...v.failures];
  let score = v.score;
  if (reference && v.ok) {
    const agree = agreement(candidate, reference);
    score = Math.min(score, agree.score);
    if (!agree.ok) failures.push(agree.reason);
  }
  return { ok: failures.length === 0, score, failures };
}

function agreement(a: AnswerView, b: AnswerView): { ok: boolean; score: number; reason: string } {
  if (b.toolCalls.length > 0 || a.toolCalls.length > 0) {
    const same = a.toolCalls.map((t) => t.name).join(",") === b.toolCalls.map((t) => t.name).join(",");
    return { ok: same, score: same ? 1 : 0.2, reason: "different_tool_calls" };
  }
  const na = finalNumber(a.content ?? "");
  const nb = finalNumber(b.content ?? "");
  if (na !== undefined && nb !== undefined) {
    const same = Math.abs(na - nb) <= 1e-9 * Math.max(1, Math.abs(nb));
    return { ok: same, score: same ? 1 : 0, reason: "different_final_number" };
  }
  const j = jaccard(words(a.content ?? ""), words(b.content ?? ""));
  // Paraphrases of one answer share roughly a third of their words or more; unrelated answers far less.
  return { ok: j >= 0.3, score: Math.min(1, j / 0.3), reason: "low_overlap_with_served_answer" };
}

export function finalNumber(text: string): number | undefined {
  const m = text.replace(/,(?=\d{3}\b)/g, "").match(/-?\d+(?:\.\d+)?(?=[^\d]*$)/);
  return m ? Number(m[0]) : undefined;
}

function words(t: string): Set<string> {
  return new Set(t.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);
}

function jaccard(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let inter = 0;
  for (const w of a) if (b.has(w)) inter++;
  return inter / (a.size + b.size - inter);
}
