// "judge" (optional): an LLM compares the two answers. It is asked twice, with the answers in both
// orders (reference first, then candidate first), so a preference for a position cancels out; the
// candidate is acceptable when it is judged at least as good in both orders (require "both", the
// default) or in one ("either"). The judge must not grade its own family: it refuses (ScorerSkip)
// when its model family is that of either compared model, or when a compared model is unknown.
// The model is called through an injected `complete`, so the evaluator can route it via the executor.
import type OpenAI from "openai";
import { lastUserText, messageText, ScorerSkip, type Scorer, type ScorerInput, type ScorerVerdict } from "./types.ts";

export type JudgeMessages = OpenAI.Chat.ChatCompletionMessageParam[];
/** Sends the messages to the judge model and returns its text answer. */
export type JudgeComplete = (messages: JudgeMessages) => Promise<string>;

export interface JudgeOptions {
  /** The judge's model id (for the family check). */
  model: string;
  complete: JudgeComplete;
  /** "both" (default): not worse in both orders; "either": not worse in at least one. */
  require?: "both" | "either";
  /** Run even when a compared model id is missing (default false: refuse, the family cannot be checked). */
  allowUnknownModels?: boolean;
  /** Characters of the question and of each answer shown to the judge (default 8000 each; longer is cut in the middle). */
  maxChars?: number;
}

const FAMILIES: [RegExp, string][] = [
  [/^(?:gpt|chatgpt|o\d|text-(?:davinci|embedding)|davinci|babbage|codex)/, "openai"],
  [/^claude/, "anthropic"],
  [/^(?:gemini|gemma|palm|bison|learnlm)/, "google"],
  [/^(?:llama|meta-llama|codellama)/, "meta"],
  [/^(?:mistral|mixtral|codestral|ministral|magistral|pixtral|devstral|open-mi[sx]tral)/, "mistral"],
  [/^(?:qwen|qwq)/, "qwen"],
  [/^deepseek/, "deepseek"],
  [/^(?:command|c4ai|aya)/, "cohere"],
  [/^grok/, "xai"],
  [/^phi/, "microsoft"],
];

/**
 * A model's family: the provider its name prefix belongs to ("gpt-4o" and "o3-mini" → "openai",
 * "claude-sonnet-4-5" → "anthropic", "Mixtral-8x7B-Instruct" → "mistral"); a "provider/" or
 * "org/" path prefix is ignored; an unknown name's family is its first alphabetic token.
 */
export function modelFamily(id: string): string {
  const name = (id.split("/").pop() ?? id).trim().toLowerCase();
  for (const [re, family] of FAMILIES) if (re.test(name)) return family;
  return /^[a-z]+/.exec(name)?.[0] ?? name;
}

export function sameFamily(a: string, b: string): boolean {
  return modelFamily(a) === modelFamily(b);
}

function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const half = Math.floor(max / 2);
  return `${text.slice(0, half)}\n[... ${text.length - max} characters omitted ...]\n${text.slice(text.length - half)}`;
}

export const JUDGE_SYSTEM =
  "You are an impartial, strict grader. You compare two answers to the same request. Judge correctness first " +
  "(a final result that is wrong makes an answer worse than a correct one however well written), then completeness " +
  "and whether it follows the request's instructions and format. Ignore length and style otherwise. " +
  "Give a short reason, then end with exactly one line: VERDICT: 1 (answer 1 is better), VERDICT: 2 (answer 2 is better) " +
  "or VERDICT: TIE (equally good, or equally bad).";

/** The judge's messages for one order of the two answers. */
export function judgeMessages(request: ScorerInput["request"], first: string, second: string, maxChars = 8000): JudgeMessages {
  const system = request.messages.filter((m) => m.role === "system" || m.role === "developer").map(messageText).join("\n");
  const question = lastUserText(request);
  const parts = [
    system ? `[System instructions of the request]\n${cut(system, maxChars)}\n` : "",
    `[Request]\n${cut(question, maxChars)}\n`,
    `[Answer 1]\n${cut(first, maxChars)}\n`,
    `[Answer 2]\n${cut(second, maxChars)}\n`,
    "Which answer is better? End with VERDICT: 1, VERDICT: 2 or VERDICT: TIE.",
  ];
  return [
    { role: "system", content: JUDGE_SYSTEM },
    { role: "user", content: parts.filter(Boolean).join("\n") },
  ];
}

export type JudgeChoice = "1" | "2" | "tie";

/** The last "VERDICT: 1|2|TIE" of a judge answer; undefined when there is none. */
export function parseJudgeVerdict(text: string): JudgeChoice | undefined {
  const re = /verdict\s*[:=]?\s*[*_`"'[(]*\s*(1|2|tie)\b/gi;
  let last: string | undefined;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) last = m[1]!.toLowerCase();
  return last === "1" || last === "2" || last === "tie" ? last : undefined;
}

export function judgeScorer(options: JudgeOptions): Scorer {
  const require = options.require ?? "both";
  const max = options.maxChars ?? 8000;
  return {
    name: "judge",
    async score(input: ScorerInput): Promise<ScorerVerdict> {
      const ref = input.models?.reference;
      const cand = input.models?.candidate;
      const judgeFamily = modelFamily(options.model);
      for (const m of [ref, cand]) {
        if (m === undefined || m === "") {
          if (!options.allowUnknownModels) throw new ScorerSkip("judge: a compared model is unknown, its family cannot be checked");
        } else if (modelFamily(m) === judgeFamily) {
          throw new ScorerSkip(`judge: ${options.model} is of the same family (${judgeFamily}) as compared model ${m}`);
        }
      }
      // Order A: reference is answer 1; order B: candidate is answer 1.
      const [a, b] = await Promise.all([
        options.complete(judgeMessages(input.request, input.reference, input.candidate, max)),
        options.complete(judgeMessages(input.request, input.candidate, input.reference, max)),
      ]);
      const va = parseJudgeVerdict(a);
      const vb = parseJudgeVerdict(b);
      if (va === undefined || vb === undefined) throw new Error(`judge: no VERDICT line in the judge's answer (${va === undefined ? "reference-first" : "candidate-first"} order)`);
      // The candidate is "not worse" in an order when the judge prefers it or calls a tie.
      const notWorseA = va !== "1";
      const notWorseB = vb !== "2";
      const n = Number(notWorseA) + Number(notWorseB);
      const ok = require === "both" ? n === 2 : n >= 1;
      return { ok, score: n / 2, detail: `reference-first: ${va}, candidate-first: ${vb} (candidate not worse in ${n}/2 orders)` };
    },
  };
}
