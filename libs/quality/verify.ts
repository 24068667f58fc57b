// Answer verifiers shared by the router's cascade (escalate a cheap answer that fails) and the
// evaluator. Label-free: they look only at the request and the answer.
import { checkArithmetic, finalAnswerDerived } from "./arithmetic.ts";
import { HEDGING_PHRASES, REFUSAL_PHRASES } from "./phrases.ts";

export interface VerifyRequest {
  jsonMode: boolean;
  hasTools: boolean;
  /**
   * RegExp the end of the content must match, or a preset: "final-number" (a final numeric answer),
   * "gsm8k" ("#### <whole number>" at the end), "choice-letter"; any other string is a RegExp source.
   */
  expectFormat?: RegExp | string;
}

export interface VerifyAnswer {
  content: string | null;
  finishReason: string;
  toolCalls?: { name: string; arguments: string }[];
}

export interface VerifyOptions {
  /** Check shown arithmetic ("a op b = c"); on for math-like requests. Default false. */
  arithmetic?: boolean;
  /** Require the marked final answer ("#### 42") to be a result of a shown step. Default false. */
  derivedFinal?: boolean;
  /** Treat hedging as a failure (default true). */
  hedgingFails?: boolean;
}

/** Task categories whose answers show their arithmetic (classifier categories and benchmark names). */
export const MATH_CATEGORY = /math|gsm8k|arithmetic|algebra|calculus|statistics/i;

/** The checks a cascade and the evaluator switch on for a task category: shown arithmetic for math. */
export function verifyOptionsFor(category: string): VerifyOptions {
  const math = MATH_CATEGORY.test(category);
  return { arithmetic: math, derivedFinal: math };
}

export interface VerifyResult {
  ok: boolean;
  failures: string[];
  /** 1 = no problem found; each failure subtracts its penalty; floored at 0. */
  score: number;
}

export type FailureCode =
  | "empty"
  | "truncated"
  | "content_filter"
  | "refusal"
  | "hedging"
  | "invalid_json"
  | "tool_call_missing_name"
  | "tool_call_bad_arguments"
  | "format_mismatch"
  | "arithmetic_error"
  | "final_not_derived";

const PENALTY: Record<FailureCode, number> = {
  empty: 1,
  truncated: 0.6,
  content_filter: 1,
  refusal: 0.9,
  hedging: 0.4,
  invalid_json: 0.8,
  tool_call_missing_name: 0.8,
  tool_call_bad_arguments: 0.8,
  format_mismatch: 0.5,
  arithmetic_error: 0.5,
  final_not_derived: 0.3,
};

/** Final numeric answer in the last lines: "#### 42", "answer is $1,200.50", "= 7", or a last line with a number. */
const FINAL_NUMBER =
  /(?:####\s*\$?-?[0-9][0-9,]*(?:\.[0-9]+)?|answer(?: is)?:?\s*\**\s*\$?-?[0-9][0-9,]*(?:\.[0-9]+)?|\\boxed\{\s*\$?-?[0-9][0-9,.]*\}|=\s*\$?-?[0-9][0-9,]*(?:\.[0-9]+)?[^\n=]{0,40}[.!]?\s*$|-?[0-9][0-9,]*(?:\.[0-9]+)?[^\n0-9]{0,40}$)/i;
/** GSM8K's answer format: "#### <whole number>" closing the answer (GSM8K answers are whole numbers). */
const GSM8K_FINAL = /####[ \t]*\$?[ \t]*-?[0-9][0-9,]*(?:\.0+)?(?![0-9.,]*[0-9])[^\n0-9]{0,40}\s*$/;
const CHOICE_LETTER = /(?:^|answer(?: is)?:?\s*|\()\s*\(?[A-D]\)?(?:[.)\s]|$)/im;

export function formatPreset(name: string): RegExp {
  if (name === "final-number") return FINAL_NUMBER;
  if (name === "choice-letter") return CHOICE_LETTER;
  if (name === "gsm8k") return GSM8K_FINAL;
  return new RegExp(name, "m");
}

function tail(s: string, n: number): string {
  return s.length > n ? s.slice(s.length - n) : s;
}

function containsPhrase(text: string, phrases: readonly string[]): boolean {
  for (const p of phrases) if (text.includes(p)) return true;
  return false;
}

/** Heuristic truncation even when finish_reason says "stop": open fence or open "<<" at the end. */
function looksCut(content: string): boolean {
  const fences = content.split("```").length - 1;
  if (fences % 2 === 1) return true;
  const t = tail(content, 200);
  const open = t.lastIndexOf("<<");
  if (open >= 0 && t.indexOf(">>", open) < 0) return true;
  return /[=(,:]\s*$/.test(t);
}

function normaliseQuotes(s: string): string {
  return s.toLowerCase().replace(/[\u2018\u2019]/g, "'");
}

function isJson(text: string): boolean {
  let s = text.trim();
  // Models often wrap JSON in a fence even in JSON mode; accept one fenced block.
  const fenced = /^```(?:json)?\s*\n([\s\S]*)\n```$/.exec(s);
  if (fenced) s = fenced[1]!.trim();
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}

export function verifyAnswer(
  input: { request: VerifyRequest; answer: VerifyAnswer },
  options: VerifyOptions = {},
): VerifyResult {
  const { request, answer } = input;
  const failures: FailureCode[] = [];
  const extra: string[] = [];
  const content = answer.content ?? "";
  const toolCalls = answer.toolCalls ?? [];
  const hasText = content.trim().length > 0;

  if (!hasText && toolCalls.length === 0) failures.push("empty");
  if (answer.finishReason === "length") failures.push("truncated");
  else if (answer.finishReason === "content_filter") failures.push("content_filter");
  else if (hasText && looksCut(content)) failures.push("truncated");

  if (hasText) {
    const head = normaliseQuotes(content.slice(0, 300));
    const end = normaliseQuotes(tail(content, 300));
    if (containsPhrase(head, REFUSAL_PHRASES)) failures.push("refusal");
    if ((options.hedgingFails ?? true) && (containsPhrase(head, HEDGING_PHRASES) || containsPhrase(end, HEDGING_PHRASES))) {
      failures.push("hedging");
    }
    if (request.jsonMode && !isJson(content)) failures.push("invalid_json");
    if (request.expectFormat !== undefined) {
      const re = typeof request.expectFormat === "string" ? formatPreset(request.expectFormat) : request.expectFormat;
      // Formats describe the end of the answer: test the tail to stay fast on long answers.
      if (!re.test(tail(content.trimEnd(), 400))) failures.push("format_mismatch");
    }
    if (options.arithmetic) {
      const a = checkArithmetic(content);
      if (a.errors.length > 0) {
        failures.push("arithmetic_error");
        extra.push(...a.errors.slice(0, 3).map((e) => `arithmetic: ${e}`));
      }
    }
    if (options.derivedFinal && finalAnswerDerived(content) === false) failures.push("final_not_derived");
  } else if (request.jsonMode && toolCalls.length === 0) {
    failures.push("invalid_json");
  }

  for (const tc of toolCalls) {
    if (!tc.name || !tc.name.trim()) failures.push("tool_call_missing_name");
    let argsOk = false;
    try {
      const v: unknown = JSON.parse(tc.arguments || "{}");
      argsOk = typeof v === "object" && v !== null && !Array.isArray(v);
    } catch {
      argsOk = false;
    }
    if (!argsOk) failures.push("tool_call_bad_arguments");
  }

  const unique = [...new Set(failures)];
  let score = 1;
  for (const f of unique) score -= PENALTY[f];
  return { ok: unique.length === 0, failures: [...unique, ...extra], score: Math.max(0, Math.round(score * 1000) / 1000) };
}
