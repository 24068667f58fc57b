// "agreement": does the cheap answer reach the same answer as the served one? What "the answer" is
// depends on the kind of request, chosen by the first rule that applies (see agreementKind):
//   json   – the request asks for JSON, or both answers are JSON: parsed values equal, key order aside
//   code   – both answers have fenced code blocks: the code equal up to whitespace
//   choice – a multiple-choice category, or both answers mark an option letter: same letter
//   number – a math category, both answers mark a final number ("#### n", \boxed{n}, "the answer is n"),
//            or the question is a numeric word problem (isNumericQuestion): same final number
//   text   – otherwise: normalised text equal, or token F1 at least `textThreshold`
import {
  canonicalJson,
  extractChoiceLetter,
  extractCodeBlocks,
  extractFinalNumber,
  extractJson,
  jsonLeaves,
  normaliseCode,
  normaliseText,
  numbersAgree,
  tokenF1,
} from "#libs/quality/extract.ts";
import { textSimilarity } from "#libs/quality/similarity.ts";
import { MATH_CATEGORY } from "./checks.ts";
import { lastUserText, round3, wantsJson, type Scorer, type ScorerInput, type ScorerVerdict } from "./types.ts";

export type AgreementKind = "json" | "code" | "choice" | "number" | "text";

export interface AgreementOptions {
  /** Token F1 at or above which two free-text answers agree (default 0.5). */
  textThreshold?: number;
  /** Categories answered with an option letter (default: mmlu, multiple choice, quiz). */
  choiceCategories?: RegExp;
  /** Categories answered with a number (default: MATH_CATEGORY). */
  mathCategories?: RegExp;
}

export const CHOICE_CATEGORY = /mmlu|multiple[ _-]?choice|\bchoice\b|quiz|arc|hellaswag/i;
/** A quantity question ("how many", "what percentage", "calculate"...). */
const QUANTITY_QUESTION = /\b(?:how (?:many|much|long|far|old|fast|tall|heavy|often)|calculate|compute|solve|what (?:percentage|percent|fraction)|what(?:'s| is| was| will be) the (?:total|sum|difference|product|number|value|percentage|average|cost|price|area|perimeter))\b/i;

/**
 * A numeric word problem: a quantity question with a number in it, or a question (ending in "?")
 * that gives at least two numbers.
 */
export function isNumericQuestion(question: string): boolean {
  const q = question.trim();
  const numbers = (q.match(/\d+(?:[.,]\d+)*/g) ?? []).length;
  return (numbers >= 1 && QUANTITY_QUESTION.test(q)) || (numbers >= 2 && /\?["')\]]*$/.test(q));
}

const MARKED = new Set(["hash", "boxed", "answer"]);

/** The kind of agreement the first applicable rule picks (the candidate's extraction may still fail). */
export function agreementKind(input: ScorerInput, options: AgreementOptions = {}): AgreementKind {
  const { reference: ref, candidate: cand } = input;
  const category = input.category ?? "";
  if (wantsJson(input.request)) return "json";
  if (extractCodeBlocks(ref).length > 0 && extractCodeBlocks(cand).length > 0) return "code";
  if (isWholeJson(ref) && isWholeJson(cand)) return "json";
  if ((options.choiceCategories ?? CHOICE_CATEGORY).test(category) && extractChoiceLetter(ref)) return "choice";
  if (extractChoiceLetter(ref)?.source === "marked" && extractChoiceLetter(cand)?.source === "marked") return "choice";
  const nr = extractFinalNumber(ref);
  if (nr) {
    if ((options.mathCategories ?? MATH_CATEGORY).test(category)) return "number";
    const nc = extractFinalNumber(cand);
    if (nc && MARKED.has(nr.source) && MARKED.has(nc.source)) return "number";
    if (nc && isNumericQuestion(lastUserText(input.request))) return "number";
  }
  return "text";
}

/** JSON object/array as the whole answer or as its one fenced block (stricter than extractJson's span search). */
function isWholeJson(text: string): boolean {
  const s = text.trim();
  if (!/^(?:```(?:json|JSON)?[ \t]*\n)?\s*[[{]/.test(s)) return false;
  return extractJson(s) !== undefined;
}

function verdict(ok: boolean, score: number, detail: string): ScorerVerdict {
  return { ok, score: round3(score), detail };
}

function jaccard(a: string[], b: string[]): number {
  const sa = new Set(a);
  const sb = new Set(b);
  if (sa.size === 0 && sb.size === 0) return 1;
  let inter = 0;
  for (const x of sa) if (sb.has(x)) inter++;
  return inter / (sa.size + sb.size - inter);
}

function agreeText(ref: string, cand: string, threshold: number): ScorerVerdict {
  if (normaliseText(ref) === normaliseText(cand)) return verdict(true, 1, "text: equal after normalisation");
  const f1 = tokenF1(cand, ref);
  return verdict(f1 >= threshold, f1, `text: token F1 ${round3(f1)} (threshold ${threshold})`);
}

export function agreementScorer(options: AgreementOptions = {}): Scorer {
  const textThreshold = options.textThreshold ?? 0.5;
  return {
    name: "agreement",
    async score(input: ScorerInput): Promise<ScorerVerdict> {
      const { reference: ref, candidate: cand } = input;
      const kind = agreementKind(input, options);
      switch (kind) {
        case "json": {
          const r = extractJson(ref);
          const c = extractJson(cand);
          if (!r) return agreeText(ref, cand, textThreshold);
          if (!c) return verdict(false, 0, "json: candidate holds no JSON");
          if (canonicalJson(r.value) === canonicalJson(c.value)) return verdict(true, 1, "json: equal");
          const j = jaccard(jsonLeaves(r.value), jsonLeaves(c.value));
          return verdict(false, Math.min(0.99, j), `json: differs (leaf overlap ${round3(j)})`);
        }
        case "code": {
          const r = normaliseCode(extractCodeBlocks(ref).map((b) => b.code).join("\n"));
          const c = normaliseCode(extractCodeBlocks(cand).map((b) => b.code).join("\n"));
          if (r === c) return verdict(true, 1, "code: equal up to whitespace");
          const s = textSimilarity(r, c, { charWeight: 1 });
          return verdict(false, Math.min(0.99, s), `code: differs (char similarity ${round3(s)})`);
        }
        case "choice": {
          const r = extractChoiceLetter(ref);
          const c = extractChoiceLetter(cand);
          if (!r) return agreeText(ref, cand, textThreshold);
          if (!c) return verdict(false, 0, `choice: reference ${r.letter}, candidate chose no letter`);
          return verdict(r.letter === c.letter, r.letter === c.letter ? 1 : 0, `choice: ${c.letter} vs ${r.letter}`);
        }
        case "number": {
          const r = extractFinalNumber(ref);
          const c = extractFinalNumber(cand);
          if (!r) return agreeText(ref, cand, textThreshold);
          if (!c) return verdict(false, 0, `number: reference ${r.raw}, candidate has no number`);
          const same = numbersAgree(r.value, c.value);
          return verdict(same, same ? 1 : 0, `number: ${c.raw} vs ${r.raw}`);
        }
        case "text":
          return agreeText(ref, cand, textThreshold);
      }
    },
  };
}
