// Feature extraction: cheap, linear-time scans with precompiled, backtracking-safe regexes
// (no nested quantifiers, bounded input) so classification stays in the microseconds.
import type { ClassifyInput, Features } from "./types.ts";

/** Regex features look at most this many characters (head + tail) of very long prompts. */
const SCAN_HEAD = 12_000;
const SCAN_TAIL = 4_000;

export function boundedText(text: string): string {
  if (text.length <= SCAN_HEAD + SCAN_TAIL) return text;
  return text.slice(0, SCAN_HEAD) + "\n" + text.slice(text.length - SCAN_TAIL);
}

/**
 * boundedText(promptText(input)) and promptText(input).length without building the whole prompt: slicing
 * a 2 MB concatenation flattens it (a 2 MB copy on the event loop per use), here only head and tail are built.
 */
export function boundedPromptText(input: ClassifyInput): { text: string; chars: number } {
  const parts: string[] = [];
  for (const m of input.messages) {
    if (m.role === "assistant" || m.role === "tool") continue;
    // promptText puts no separator before the first non-empty part.
    if (parts.length > 0 || m.content.length > 0) parts.push(m.content);
  }
  let chars = Math.max(0, parts.length - 1);
  for (const p of parts) chars += p.length;
  if (chars <= SCAN_HEAD + SCAN_TAIL) return { text: parts.join("\n"), chars };
  let head = "";
  for (let i = 0; i < parts.length && head.length < SCAN_HEAD; i++) head += (i > 0 ? "\n" : "") + (parts[i] as string).slice(0, SCAN_HEAD);
  let tail = "";
  for (let i = parts.length - 1; i >= 0 && tail.length < SCAN_TAIL; i--) {
    const p = parts[i] as string;
    tail = (i > 0 ? "\n" : "") + p.slice(Math.max(0, p.length - SCAN_TAIL)) + tail;
  }
  return { text: head.slice(0, SCAN_HEAD) + "\n" + tail.slice(tail.length - SCAN_TAIL), chars };
}

/** The text the model is asked about: user/system/developer content; the last user turn matters most. */
export function promptText(input: ClassifyInput): string {
  let out = "";
  for (const m of input.messages) {
    if (m.role === "assistant" || m.role === "tool") continue;
    out += (out ? "\n" : "") + m.content;
  }
  return out;
}

export function lastUserText(input: ClassifyInput): string {
  for (let i = input.messages.length - 1; i >= 0; i--) {
    const m = input.messages[i];
    if (m && m.role === "user") return m.content;
  }
  return "";
}

const CODE_FENCE = /```/;
const CODE_SYNTAX =
  /\b(?:def|class|function|return|import|const|let|var|public|static|void|printf|println|elif|lambda|async|await|struct|impl|fn|SELECT|INSERT|UPDATE)\b[^\n]{0,80}[({:;=]|#include|=>|\w\(\)|;\s*$|<\/?[a-z]+>|\bpython\b|\bjavascript\b|\btypescript\b|\bjava\b|\bc\+\+|\bsql\b|\bregex\b|\bbash\b|\bcode\b|\bprogram\b|\bfunction\b|\bbug\b|\bcompile/im;
const MATH =
  /\d\s*[+\-*/^×÷=<>]\s*\d|\\frac|\\sqrt|\$[^$\n]{1,80}\$|\b(?:solve|calculate|compute|equation|integral|derivative|probability|sum of|how many|how much|percent|percentage|average|remainder|divisible|prime|polynomial|matrix|theorem|prove|log|sqrt|x\^2)\b/i;
const REASONING_G =
  /\b(?:step[- ]by[- ]step|why|explain|reason(?:ing)?|prove|proof|derive|justify|analy[sz]e|compare|contrast|evaluate|critique|implications?|trade-?offs?|pros and cons|assume|therefore|hypothes[ie]s|infer|deduce|if and only if|suppose|consider)\b/gi;
const QUESTION_G = /\?/g;
const NUMBER_G = /\d+(?:[.,]\d+)?/g;
const MC_OPTION_G = /(?:^|\n)[ \t]{0,8}\(?[A-Da-d][.)][ \t]/g;
const CONSTRAINT_G =
  /\b(?:exactly|at least|at most|no more than|must|should not|format|bullet points?|in \d+ words|words or less|json|table|markdown|limit|only (?:use|respond|answer|include)|start (?:every|each)|each sentence|rhyme)\b/gi;
const FOLLOW_UP =
  /\b(?:your (?:previous|last|earlier) (?:answer|response|reply)|rewrite|rephrase|revise|now (?:do|make|write|translate|explain)|based on (?:your|the) (?:previous|above)|the above|same (?:thing|question)|continue|elaborate|what about)\b/i;

function countMatches(re: RegExp, text: string, cap = 1000): number {
  re.lastIndex = 0;
  let n = 0;
  while (re.exec(text) !== null) {
    n++;
    if (n >= cap) break;
  }
  re.lastIndex = 0;
  return n;
}

// Language: script ranges first (unambiguous), then Latin stop-word votes.
const SCRIPT_TESTS: [string, RegExp][] = [
  ["zh", /[\u4e00-\u9fff]/g],
  ["ja", /[\u3040-\u30ff]/g],
  ["ko", /[\uac00-\ud7af]/g],
  ["ru", /[\u0400-\u04ff]/g],
  ["ar", /[\u0600-\u06ff]/g],
  ["he", /[\u0590-\u05ff]/g],
  ["hi", /[\u0900-\u097f]/g],
  ["th", /[\u0e00-\u0e7f]/g],
  ["el", /[\u0370-\u03ff]/g],
];
const STOPWORDS: [string, RegExp][] = [
  ["en", /\b(?:the|and|is|are|of|to|what|you|with|that|this|for)\b/gi],
  ["es", /\b(?:el|los|las|que|por|para|una|del|est[aá]|como|pero|es)\b/gi],
  ["fr", /\b(?:le|les|des|est|une|pour|dans|que|qui|avec|pas|je|vous)\b/gi],
  ["de", /\b(?:der|die|das|und|ist|nicht|ein|eine|mit|ich|sie|auf|f[uü]r)\b/gi],
  ["pt", /\b(?:o|os|as|que|n[aã]o|uma|para|com|est[aá]|voc[eê]|do|da)\b/gi],
  ["it", /\b(?:il|gli|che|non|una|per|con|sono|della|questo|come)\b/gi],
];

/** The language whose pattern matches `sample` most often (the first on a tie); `fallback` with 0 when none matches. */
function mostMatches(tests: [string, RegExp][], sample: string, cap: number, fallback: string): { lang: string; count: number } {
  let lang = fallback;
  let count = 0;
  for (const [l, re] of tests) {
    const c = countMatches(re, sample, cap);
    if (c > count) {
      lang = l;
      count = c;
    }
  }
  return { lang, count };
}

/** Every range in SCRIPT_TESTS lies within this one. */
const ANY_SCRIPT = /[\u0370-\ud7af]/;

export function guessLanguage(text: string): string {
  const sample = text.length > 2000 ? text.slice(0, 2000) : text;
  // Most prompts hold no character of those scripts: then every script count is 0, skip the nine scans.
  if (ANY_SCRIPT.test(sample)) {
    const nonSpace = sample.replace(/\s+/g, "").length || 1;
    const script = mostMatches(SCRIPT_TESTS, sample, 2000, "");
    // Kana present → Japanese even if Han dominates.
    if (script.lang === "zh" && countMatches(SCRIPT_TESTS[1]![1], sample, 5) > 0) script.lang = "ja";
    if (script.count / nonSpace > 0.2) return script.lang;
  }
  const words = mostMatches(STOPWORDS, sample, 500, "und");
  if (words.count >= 1) return words.lang;
  // Plain Latin letters with no stop-word evidence: most traffic is English.
  return /[a-z]/i.test(sample) ? "en" : "und";
}

function countWords(text: string): number {
  let n = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const space = c === 32 || c === 10 || c === 9 || c === 13;
    if (!space && !inWord) n++;
    inWord = !space;
  }
  return n;
}

export function extractFeatures(input: ClassifyInput): Features {
  return featuresAndText(input).features;
}

/**
 * The features with the texts they were read from (the bounded prompt and last user turn), for a
 * caller that needs those texts too and should not build them a second time.
 */
export function featuresAndText(input: ClassifyInput): { features: Features; text: string; last: string } {
  const { text, chars } = boundedPromptText(input);
  const last = lastUserText(input);
  const lastBounded = boundedText(last);
  let turns = 0;
  let hasSystem = false;
  for (const m of input.messages) {
    if (m.role === "user") turns++;
    else if (m.role === "system" || m.role === "developer") hasSystem = true;
  }
  const features: Features = {
    chars,
    approxTokens: Math.ceil(chars / 4),
    turns,
    hasCode: CODE_FENCE.test(text) || CODE_SYNTAX.test(text),
    hasMath: MATH.test(text),
    reasoningMarkers: countMatches(REASONING_G, text),
    hasTools: input.hasTools,
    jsonMode: input.jsonMode,
    language: guessLanguage(text),
    questionCount: countMatches(QUESTION_G, text),
    lastUserChars: last.length,
    words: countWords(lastBounded),
    numberCount: countMatches(NUMBER_G, text),
    multipleChoice: countMatches(MC_OPTION_G, text, 10) >= 3,
    constraintMarkers: countMatches(CONSTRAINT_G, text),
    followUp: turns > 1 && FOLLOW_UP.test(lastBounded),
    hasSystem,
    maxTokens: input.maxTokens ?? 0,
  };
  return { features, text, last: lastBounded };
}
