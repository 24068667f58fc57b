// The scorer interface: one verdict on a cheap (candidate) answer given the request and the answer
// actually served (the reference, from the more expensive model). Every scorer is label-free.
import type OpenAI from "openai";

/** The parts of an OpenAI chat request scorers read; a full ChatCompletionCreateParams fits. */
export interface ScorerRequest {
  messages: OpenAI.Chat.ChatCompletionMessageParam[];
  model?: string;
  response_format?: OpenAI.Chat.ChatCompletionCreateParams["response_format"];
  tools?: OpenAI.Chat.ChatCompletionTool[];
}

/** What is known about an answer beyond its text (from the chat.completion). */
export interface AnswerMeta {
  /** finish_reason ("stop", "length", "content_filter", "tool_calls"). Default "stop". */
  finishReason?: string;
  toolCalls?: { name: string; arguments: string }[];
}

export interface ScorerInput {
  request: ScorerRequest;
  /** Text of the served (expensive) answer. */
  reference: string;
  /** Text of the cheap answer under test. */
  candidate: string;
  /** The request's category ("math", "code", "mmlu", ...) when the classifier gave one. */
  category?: string;
  candidateMeta?: AnswerMeta;
  referenceMeta?: AnswerMeta;
  /** Model ids, for scorers that care who answered (the judge refuses a same-family judge). */
  models?: { reference?: string; candidate?: string };
}

export interface ScorerVerdict {
  /** The cheap answer is acceptable in place of the reference. */
  ok: boolean;
  /** 0..1, higher = more acceptable. */
  score: number;
  detail?: string;
}

export interface Scorer {
  name: string;
  /** Recorded but not counted in the combined verdict (an informative, weak signal). Default false. */
  advisory?: boolean;
  score(input: ScorerInput): Promise<ScorerVerdict>;
}

/**
 * Thrown by a scorer that declines to give a verdict on this input (e.g. the judge when it is of the
 * same model family as a compared model). runScorers records it as "skipped", not as a failure.
 */
export class ScorerSkip extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "ScorerSkip";
  }
}

/** Text of a message's content (string, or the text parts of a content array). */
export function messageText(m: OpenAI.Chat.ChatCompletionMessageParam): string {
  const c = m.content;
  if (typeof c === "string") return c;
  if (!Array.isArray(c)) return "";
  return c.map((p) => (typeof p === "object" && p !== null && "text" in p && typeof p.text === "string" ? p.text : "")).filter(Boolean).join("\n");
}

/** Text of the last user message (the question the answers answer). */
export function lastUserText(request: ScorerRequest): string {
  for (let i = request.messages.length - 1; i >= 0; i--) {
    const m = request.messages[i]!;
    if (m.role === "user") return messageText(m);
  }
  return "";
}

/** Whether the request asks for JSON output (response_format json_object / json_schema). */
export function wantsJson(request: ScorerRequest): boolean {
  const t = request.response_format?.type;
  return t === "json_object" || t === "json_schema";
}

export const clamp01 = (x: number): number => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0);
export const round3 = (x: number): number => Math.round(x * 1000) / 1000;
