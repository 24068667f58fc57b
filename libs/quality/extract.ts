// Answer extraction: the part of an answer two answers must agree on (final number, option letter,
// JSON value, code), and text normalisation for the rest. Label-free and deterministic; used by the
// evaluator's agreement scorer. All regular expressions use bounded classes: linear-time scanning.

// ---------------------------------------------------------------------------------------------
// Numbers
// ---------------------------------------------------------------------------------------------

/** How a final number was found: a GSM8K "#### n" marker, a LaTeX \boxed{n}, "the answer is n", or the last number. */
export type NumberSource = "hash" | "boxed" | "answer" | "last";

export interface FinalNumber {
  value: number;
  source: NumberSource;
  /** The matched text. */
  raw: string;
}

/** A number as written: optional sign and "$", thousands separators only in groups of three, optional decimals, optional "/d". */
const NUM = String.raw`-?(?:\$[ \t]?)?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\/\d+(?:\.\d+)?)?|-?\$?\.\d+`;

/**
 * Parses one written number: "1,234.50", "$3.00", "-7", "12%", "2/3" (a fraction), ".5".
 * undefined when the text holds no number.
 */
export function parseNumber(text: string): number | undefined {
  const s = text.replace(/\\[$,!]/g, (m) => m.slice(1)).replace(/[$\s]/g, "");
  const frac = /^(-?)((?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)\/((?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)%?$/.exec(s);
  if (frac) {
    const d = Number(frac[3]!.replace(/,/g, ""));
    if (d === 0) return undefined;
    const v = Number(frac[2]!.replace(/,/g, "")) / d;
    return frac[1] === "-" ? -v : v;
  }
  const m = /^-?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)/.exec(s);
  if (!m) return undefined;
  const v = Number(m[0].replace(/,/g, ""));
  return Number.isFinite(v) ? v : undefined;
}

/** Removes GSM8K calculator annotations ("<<2*60=120>>") and LaTeX escapes that hide numbers. */
function cleanForNumbers(text: string): string {
  return text
    .replace(/<<[^<>\n]{0,200}>>/g, " ")
    .replace(/\\([$%*,])/g, "$1")
    .replace(/\\(?:text|mathrm|textbf)\{([^{}]{0,80})\}/g, "$1")
    .replace(/\\frac\{\s*(\d+)\s*\}\{\s*(\d+)\s*\}/g, "$1/$2");
}

const HASH_G = new RegExp(String.raw`####[ \t*]*(${NUM})`, "g");
const BOXED_G = /\\boxed\{([^{}\n]{0,80}(?:\{[^{}\n]{0,40}\}[^{}\n]{0,40})*)\}/g;
const ANSWER_G = new RegExp(
  String.raw`(?:final answer|the answer|answer)(?:\s+(?:is|would be|will be|should be))?\s*[:=]?[ \t]*(?:\*\*)?[ \t]*(?:approximately|about|roughly)?[ \t]*(${NUM})`,
  "gi",
);
// A number not inside a word ("x2", "3rd" still yields 3) and not the tail of a range ("3-5" gives 5, not -5).
const NUMBER_G = new RegExp(String.raw`(?<![\w.])(?:${NUM})`, "g");

function lastMatch(re: RegExp, text: string): RegExpExecArray | null {
  re.lastIndex = 0;
  let last: RegExpExecArray | null = null;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) last = m;
  return last;
}

/** The number inside a \boxed{...}: "\boxed{42}", "\boxed{\$1,200}", "\boxed{2/3}". */
function boxedNumber(inner: string): number | undefined {
  const m = new RegExp(NUM).exec(inner);
  return m ? parseNumber(m[0].replace(/^(-?)\$?/, "$1")) : undefined;
}

/**
 * The final numeric answer of a (math) answer, by priority: the last "#### n" (GSM8K), the last
 * \boxed{n}, the last "the answer is n" / "final answer: n", else the last number in the text
 * (calculator annotations removed). undefined when there is no number at all.
 */
export function extractFinalNumber(text: string): FinalNumber | undefined {
  const t = cleanForNumbers(text.length > 40_000 ? text.slice(text.length - 40_000) : text);
  const hash = lastMatch(HASH_G, t);
  if (hash) {
    const v = parseNumber(hash[1]!);
    if (v !== undefined) return { value: v, source: "hash", raw: hash[1]!.trim() };
  }
  const boxed = lastMatch(BOXED_G, t);
  if (boxed) {
    const v = boxedNumber(boxed[1]!);
    if (v !== undefined) return { value: v, source: "boxed", raw: boxed[1]!.trim() };
  }
  const ans = lastMatch(ANSWER_G, t);
  if (ans) {
    const v = parseNumber(ans[1]!);
    if (v !== undefined) return { value: v, source: "answer", raw: ans[1]!.trim() };
  }
  const last = lastMatch(NUMBER_G, t);
  if (last) {
    const v = parseNumber(last[0]);
    if (v !== undefined) return { value: v, source: "last", raw: last[0].trim() };
  }
  return undefined;
}

/** Two final numbers agree: equal up to float noise (relative 1e-9), so "3" = "3.00" and "0.5" = "1/2". */
export function numbersAgree(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

// ---------------------------------------------------------------------------------------------
// Option letters (multiple choice)
// ---------------------------------------------------------------------------------------------

export interface ChoiceLetter {
  letter: string;
  /** "marked": "the answer is (B)" / "Answer: B"; "bold": "**B**"; "leading": the answer starts with "B." or is just "B". */
  source: "marked" | "bold" | "leading";
}

/**
 * The chosen option letter of a multiple-choice answer (A-D by default; `letters` for more).
 * Priority: the last marked letter ("The answer is (B)", "Answer: C", "correct option is D"), the
 * last bold letter ("**(B)**"), then a leading one ("B) Paris", "(C).", an answer that is just "A").
 * Only capital letters count, so "the answer is a number" is not option A.
 */
export function extractChoiceLetter(text: string, letters = "ABCD"): ChoiceLetter | undefined {
  const set = `[${letters.replace(/[^A-Z]/g, "")}]`;
  const t = text.length > 40_000 ? text.slice(text.length - 40_000) : text;
  const marked = new RegExp(
    String.raw`(?:answer|option|choice)(?:\s+(?:is|would be|will be|should be))?\s*:?[ \t]*(?:option|choice)?[ \t]*(?:\*\*)?[ \t]*\(?(${set})\)?(?:\*\*)?(?![A-Za-z0-9])`,
    "gi",
  );
  let found: string | undefined;
  marked.lastIndex = 0;
  for (let m = marked.exec(t); m !== null; m = marked.exec(t)) {
    const l = m[1]!;
    if (new RegExp(`^${set}$`).test(l)) found = l; // case-sensitive: the i flag must not admit "a"
  }
  if (found) return { letter: found, source: "marked" };
  const bold = lastMatch(new RegExp(String.raw`\*\*\s*\(?(${set})\)?[.):]?\s*\*\*`, "g"), t);
  if (bold) return { letter: bold[1]!, source: "bold" };
  const lead = new RegExp(String.raw`^\s*(?:\*\*)?\(?(${set})(?:[).:]|\)?\s*$|\s+-\s)`).exec(text);
  if (lead) return { letter: lead[1]!, source: "leading" };
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------

function tryParse(s: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(s) as unknown };
  } catch {
    return undefined;
  }
}

const isStructured = (v: unknown): boolean => typeof v === "object" && v !== null;

/**
 * The JSON object or array an answer holds: the whole answer, one fenced block (```json ... ```), or
 * the span from the first "{"/"[" to the last "}"/"]". Bare JSON scalars ("42", "true") do not count:
 * every number would be JSON. undefined when nothing parses.
 */
export function extractJson(text: string): { value: unknown } | undefined {
  const s = text.trim();
  const whole = tryParse(s);
  if (whole && isStructured(whole.value)) return whole;
  const fenced = /```(?:json|JSON)?[ \t]*\n([\s\S]*?)\n[ \t]*```/.exec(s);
  if (fenced) {
    const f = tryParse(fenced[1]!.trim());
    if (f && isStructured(f.value)) return f;
  }
  for (const [open, close] of [["{", "}"], ["[", "]"]] as const) {
    const a = s.indexOf(open);
    const b = s.lastIndexOf(close);
    if (a >= 0 && b > a) {
      const p = tryParse(s.slice(a, b + 1));
      if (p && isStructured(p.value)) return p;
    }
  }
  return undefined;
}

/** JSON text with object keys sorted at every depth: two values are equal (key order aside) iff their canonical texts are. */
export function canonicalJson(value: unknown): string {
  const norm = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(norm);
    if (typeof v === "object" && v !== null) {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) out[k] = norm((v as Record<string, unknown>)[k]);
      return out;
    }
    return v;
  };
  return JSON.stringify(norm(value)) ?? "null";
}

/** Leaf "path=value" pairs of a JSON value (for partial credit when two values differ). */
export function jsonLeaves(value: unknown, prefix = "$"): string[] {
  if (Array.isArray(value)) return value.length === 0 ? [`${prefix}=[]`] : value.flatMap((v, i) => jsonLeaves(v, `${prefix}[${i}]`));
  if (typeof value === "object" && value !== null) {
    const keys = Object.keys(value).sort();
    return keys.length === 0 ? [`${prefix}={}`] : keys.flatMap((k) => jsonLeaves((value as Record<string, unknown>)[k], `${prefix}.${k}`));
  }
  return [`${prefix}=${JSON.stringify(value)}`];
}

// ---------------------------------------------------------------------------------------------
// Code blocks
// ---------------------------------------------------------------------------------------------

export interface CodeBlock {
  lang: string;
  code: string;
}

/** Fenced code blocks (```lang ... ```), in order. An unclosed last fence is not a block. */
export function extractCodeBlocks(text: string): CodeBlock[] {
  const out: CodeBlock[] = [];
  const re = /```([^\n`]{0,40})\n([\s\S]*?)```/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) out.push({ lang: m[1]!.trim().toLowerCase(), code: m[2]! });
  return out;
}

/** Code with whitespace normalised: lines trimmed, blank lines dropped, runs of spaces/tabs collapsed. */
export function normaliseCode(code: string): string {
  return code
    .replace(/\r\n?/g, "\n")
    .split("\n")
    .map((l) => l.replace(/[ \t]+/g, " ").trim())
    .filter((l) => l.length > 0)
    .join("\n");
}

// ---------------------------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------------------------

const ARTICLES = new Set(["a", "an", "the"]);

/** Lower case, NFKC, punctuation and symbols to spaces, articles dropped, whitespace collapsed (SQuAD-style). */
export function normaliseText(text: string): string {
  return text
    .normalize("NFKC")
    .toLowerCase()
    .replace(/[\p{P}\p{S}]+/gu, " ")
    .split(/\s+/)
    .filter((w) => w.length > 0 && !ARTICLES.has(w))
    .join(" ");
}

/** Words of normalised text. */
export function textTokens(text: string): string[] {
  const n = normaliseText(text);
  return n.length === 0 ? [] : n.split(" ");
}

/** Token-level F1 (SQuAD): harmonic mean of the shared-token precision and recall, counting repeats. 1 for two empty texts. */
export function tokenF1(a: string, b: string): number {
  const ta = textTokens(a);
  const tb = textTokens(b);
  if (ta.length === 0 && tb.length === 0) return 1;
  if (ta.length === 0 || tb.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const w of tb) counts.set(w, (counts.get(w) ?? 0) + 1);
  let common = 0;
  for (const w of ta) {
    const c = counts.get(w) ?? 0;
    if (c > 0) {
      common++;
      counts.set(w, c - 1);
    }
  }
  if (common === 0) return 0;
  const p = common / ta.length;
  const r = common / tb.length;
  return (2 * p * r) / (p + r);
}
