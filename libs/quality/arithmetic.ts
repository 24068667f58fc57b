// Checks the arithmetic an answer shows ("12 / 20 x 100 = 55", "<<2*60=120>>"): a wrong
// intermediate result is a strong, label-free sign that a math answer is wrong.

/** Tiny recursive-descent evaluator for + - * / ^ and parentheses; null when not parseable. */
export function evalArithmetic(src: string): number | null {
  const s = src.replace(/[×x]/g, "*").replace(/÷/g, "/").replace(/\s+/g, "").replace(/,(?=\d{3}(?:\D|$))/g, "");
  let i = 0;
  const peek = (): string => s[i] ?? "";
  const num = (): number | null => {
    const start = i;
    while (i < s.length && /[0-9.]/.test(s[i]!)) i++;
    if (start === i) return null;
    const v = Number(s.slice(start, i));
    return Number.isFinite(v) ? v : null;
  };
  const atom = (): number | null => {
    if (peek() === "(") {
      i++;
      const v = expr();
      if (v === null || peek() !== ")") return null;
      i++;
      return v;
    }
    if (peek() === "-") {
      i++;
      const v = atom();
      return v === null ? null : -v;
    }
    if (peek() === "$") i++;
    return num();
  };
  const power = (): number | null => {
    const b = atom();
    if (b === null) return null;
    if (peek() === "^") {
      i++;
      const e = power();
      return e === null ? null : b ** e;
    }
    return b;
  };
  const term = (): number | null => {
    let v = power();
    while (v !== null && (peek() === "*" || peek() === "/")) {
      const op = s[i++];
      const r = power();
      if (r === null) return null;
      v = op === "*" ? v * r : v / r;
    }
    return v;
  };
  const expr = (): number | null => {
    let v = term();
    while (v !== null && (peek() === "+" || peek() === "-")) {
      const op = s[i++];
      const r = term();
      if (r === null) return null;
      v = op === "+" ? v + r : v - r;
    }
    return v;
  };
  const v = expr();
  return v !== null && i === s.length && Number.isFinite(v) ? v : null;
}

function close(a: number, b: number): boolean {
  if (a === b) return true;
  const tol = Math.max(0.011, Math.abs(a) * 0.005);
  return Math.abs(a - b) <= tol || Math.abs(Math.round(a) - b) < 1e-9;
}

// Bounded classes and lengths: linear-time scanning, no catastrophic backtracking.
const ANNOTATION_G = /<<([^<>=\n]{1,120})=([^<>\n]{1,40})>>/g;
const EQUATION_G = /([0-9][0-9.,\s+\-*/x×÷()^$]{1,100}?)\s*=\s*\$?(-?[0-9][0-9,]*(?:\.[0-9]+)?)(?![0-9.]|,\d|\s{0,3}[+\-*/x×÷^]\s{0,3}[\d$(])/g;
const HAS_OP = /\d\s*[+\-*/x×÷^]\s*[\d($]/;

export interface ArithmeticCheck {
  checked: number;
  errors: string[];
}

export function checkArithmetic(text: string): ArithmeticCheck {
  const clean = text.length > 20_000 ? text.slice(0, 20_000) : text;
  const t = clean.replace(/\\([*$])/g, "$1");
  const errors: string[] = [];
  let checked = 0;
  const test = (lhs: string, rhs: string): void => {
    if (!HAS_OP.test(lhs)) return;
    if (lhs.includes("%") || /\d\s+\d/.test(lhs)) return;
    const a = evalArithmetic(lhs);
    const b = Number(rhs.replace(/[$,%\s]/g, ""));
    if (a === null || !Number.isFinite(b)) return;
    checked++;
    if (!close(a, b)) errors.push(`${lhs.trim()} = ${rhs.trim()} (is ${Math.round(a * 1000) / 1000})`);
  };
  ANNOTATION_G.lastIndex = 0;
  for (let m = ANNOTATION_G.exec(t); m !== null; m = ANNOTATION_G.exec(t)) test(m[1]!, m[2]!);
  // Plain equations outside annotations.
  const plain = t.replace(ANNOTATION_G, " ");
  EQUATION_G.lastIndex = 0;
  for (let m = EQUATION_G.exec(plain); m !== null; m = EQUATION_G.exec(plain)) {
    // Trim to the arithmetic part: drop leading punctuation and unbalanced parens.
    let lhs = m[1]!.replace(/^[\s,.)]+/, "");
    const opens = (lhs.match(/\(/g) ?? []).length;
    const closes = (lhs.match(/\)/g) ?? []).length;
    if (opens !== closes) lhs = lhs.replace(/[()]/g, "");
    test(lhs, m[2]!);
  }
  return { checked, errors };
}

const FINAL_MARKED = /(?:####|answer is:?|final answer:?)[ \t*]*\$?[ \t]*(-?[0-9][0-9,]*(?:\.[0-9]+)?)/gi;
const RESULT_G = /(?:=|>>)[ \t]*\$?[ \t]*(-?[0-9][0-9,]*(?:\.[0-9]+)?)/g;

const toNum = (s: string): number => Number(s.replace(/,/g, ""));

/**
 * Whether the marked final answer ("#### 42", "the answer is 42") is one of the results the answer
 * computed ("... = 42", "<<...=42>>"). null when there is no marked final answer or no shown results.
 * A final answer that no shown step produced is often a wrong one.
 */
export function finalAnswerDerived(text: string): boolean | null {
  const t = text.length > 20_000 ? text.slice(text.length - 20_000) : text;
  FINAL_MARKED.lastIndex = 0;
  let last: RegExpExecArray | null = null;
  for (let m = FINAL_MARKED.exec(t); m !== null; m = FINAL_MARKED.exec(t)) last = m;
  if (!last) return null;
  const final = toNum(last[1]!);
  const body = t.slice(0, last.index);
  RESULT_G.lastIndex = 0;
  let any = false;
  for (let m = RESULT_G.exec(body); m !== null; m = RESULT_G.exec(body)) {
    any = true;
    if (Math.abs(toNum(m[1]!) - final) < 1e-9) return true;
  }
  return any ? false : null;
}
