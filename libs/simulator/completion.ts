// Protocol-neutral completion: given a parsed request, decide the answer (text or tool call), its token pieces,
// finish reason and token counts. Pure apart from the memoized tokenizer.
import { buildAnswer, answerLength, refusalPieces } from "./answers.ts";
import { hashString } from "./hash.ts";
import { valueForSchema, hintsFrom } from "./json-schema-value.ts";
import type { SimMarkers } from "./markers.ts";
import type { PromptSegment } from "./prompt-cache.ts";
import { countTokens, tokenPieces } from "./tokens.ts";
import { chooseTool, type ToolChoice, type ToolDef } from "./tools.ts";
import type { SimModelSpec } from "./types.ts";

export type ResponseFormat = { type: "text" } | { type: "json_object" } | { type: "json_schema"; schema: unknown };

export interface NeutralRequest {
  model: SimModelSpec;
  segments: PromptSegment[];
  promptTokens: number;
  /** Hash of the whole conversation (not the model). */
  conversationHash: number;
  lastUserText: string;
  lastIsToolResult: boolean;
  markers: SimMarkers;
  tools: ToolDef[];
  toolChoice: ToolChoice;
  maxTokens: number | undefined;
  stop: string[];
  responseFormat: ResponseFormat;
  n: number;
  /** Replay mode: the recorded answer text, served instead of a simulated one. */
  replayText?: string;
}

export type FinishReason = "stop" | "length" | "tool_calls" | "stop_sequence";

export interface CompletionChoice {
  /** Text content split into token pieces (empty for a tool call). */
  pieces: readonly string[];
  text: string;
  tool?: { callHash: number; name: string; argumentsJson: string; argPieces: readonly string[] };
  finish: FinishReason;
  stopSequence?: string;
  /** Output tokens including reasoning tokens. */
  outputTokens: number;
  reasoningTokens: number;
  refusal: boolean;
}

function reasoningBudget(req: NeutralRequest, variant: number): number {
  if (req.model.reasoning !== true) return 0;
  const base = 32 + ((req.conversationHash + variant * 7919) % 97);
  return Math.round(base * (1 + 3 * req.markers.difficulty));
}

/** Cuts pieces at the first stop sequence; returns undefined when none occurs. */
function applyStop(pieces: readonly string[], stop: readonly string[]): { pieces: string[]; seq: string } | undefined {
  if (stop.length === 0) return undefined;
  const text = pieces.join("");
  let at = -1;
  let seq = "";
  for (const s of stop) {
    if (s.length === 0) continue;
    const i = text.indexOf(s);
    if (i >= 0 && (at < 0 || i < at)) {
      at = i;
      seq = s;
    }
  }
  if (at < 0) return undefined;
  const out: string[] = [];
  let pos = 0;
  for (const p of pieces) {
    if (pos + p.length <= at) out.push(p);
    else {
      if (at > pos) out.push(p.slice(0, at - pos));
      break;
    }
    pos += p.length;
  }
  return { pieces: out, seq };
}

function structuredText(req: NeutralRequest, prose: string): string {
  if (req.responseFormat.type === "json_object") return JSON.stringify({ answer: prose });
  if (req.responseFormat.type === "json_schema") return JSON.stringify(valueForSchema(req.responseFormat.schema, hintsFrom(req.lastUserText)));
  return prose;
}

export function completeChoice(req: NeutralRequest, variant: number): CompletionChoice {
  const { markers } = req;
  let reasoning = reasoningBudget(req, variant);
  const limit = req.maxTokens;
  if (limit !== undefined && reasoning >= limit) {
    return { pieces: [], text: "", finish: "length", outputTokens: limit, reasoningTokens: limit, refusal: false };
  }
  const room = limit === undefined ? Number.POSITIVE_INFINITY : limit - reasoning;

  const tool = markers.refuse ? undefined : chooseTool(req.tools, req.toolChoice, req.lastUserText, req.lastIsToolResult, markers.tool);
  if (tool !== undefined) {
    const argumentsJson = JSON.stringify(valueForSchema(tool.schema, hintsFrom(req.lastUserText)));
    let argPieces = tokenPieces(argumentsJson);
    let finish: FinishReason = "tool_calls";
    if (argPieces.length > room) {
      argPieces = argPieces.slice(0, room);
      finish = "length";
    }
    const args = finish === "length" ? argPieces.join("") : argumentsJson;
    const callHash = hashString(`${req.conversationHash}|${tool.name}|${variant}`);
    return {
      pieces: [],
      text: "",
      tool: { callHash, name: tool.name, argumentsJson: args, argPieces },
      finish,
      outputTokens: reasoning + (finish === "length" ? argPieces.length : countTokens(argumentsJson)),
      reasoningTokens: reasoning,
      refusal: false,
    };
  }

  let pieces: readonly string[];
  let finish: FinishReason = "stop";
  let exactCount = true; // prose pieces are single tokens; structured text is counted by the tokenizer
  if (markers.refuse) {
    pieces = refusalPieces();
    reasoning = Math.min(reasoning, 16);
  } else if (req.replayText !== undefined) {
    // Replay mode: the recorded answer, counted by the tokenizer; [sim:truncate] still cuts it.
    pieces = tokenPieces(structuredText(req, req.replayText));
    exactCount = false;
    if (markers.truncate) {
      pieces = pieces.slice(0, Math.max(1, Math.floor(pieces.length / 2)));
      finish = "length";
    }
  } else {
    const length = markers.length ?? answerLength(req.conversationHash);
    const answer = buildAnswer({
      promptHash: req.conversationHash,
      modelId: req.model.id,
      skill: req.model.skill,
      difficulty: markers.difficulty,
      length,
      variant,
    });
    pieces = answer.pieces;
    if (answer.truncatedByWeakness) finish = "length";
    if (req.responseFormat.type !== "text") {
      pieces = tokenPieces(structuredText(req, pieces.join("")));
      exactCount = false;
    }
    if (markers.truncate) {
      pieces = pieces.slice(0, Math.max(1, Math.floor(pieces.length / 2)));
      finish = "length";
    }
  }
  let stopSequence: string | undefined;
  if (pieces.length > room) {
    pieces = pieces.slice(0, room);
    finish = "length";
    exactCount = true; // a model stops after exactly `room` generated tokens
  } else {
    const stopped = applyStop(pieces, req.stop);
    if (stopped !== undefined) {
      pieces = stopped.pieces;
      finish = "stop_sequence";
      stopSequence = stopped.seq;
      exactCount = false;
    }
  }
  const text = pieces.join("");
  const textTokens = exactCount ? pieces.length : countTokens(text);
  return {
    pieces,
    text,
    finish,
    ...(stopSequence !== undefined ? { stopSequence } : {}),
    outputTokens: reasoning + textTokens,
    reasoningTokens: reasoning,
    refusal: markers.refuse,
  };
}

const MEMO_LIMIT = 5_000;
const memo = new Map<string, CompletionChoice[]>();

/**
 * All choices for a request. Plain requests (no tools, stop sequences or structured output) are fully determined by
 * model, conversation, max tokens and n, so their results are memoized: repeated benchmark traffic skips generation.
 */
export function complete(req: NeutralRequest): readonly CompletionChoice[] {
  const plain = req.tools.length === 0 && req.stop.length === 0 && req.responseFormat.type === "text";
  const key = plain ? `${req.model.id}|${req.model.skill}|${req.model.reasoning === true}|${req.conversationHash}|${req.maxTokens ?? ""}|${req.n}|${req.replayText === undefined ? "" : hashString(req.replayText)}` : "";
  if (plain) {
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
  }
  const out: CompletionChoice[] = [];
  for (let i = 0; i < req.n; i++) out.push(completeChoice(req, i));
  if (plain) {
    if (memo.size >= MEMO_LIMIT) {
      const oldest = memo.keys().next();
      if (oldest.done !== true) memo.delete(oldest.value);
    }
    memo.set(key, out);
  }
  return out;
}

const jsonMemo = new WeakMap<CompletionChoice, string>();

/** JSON string literal of a choice's text, computed once per (memoized) choice. */
export function textJson(c: CompletionChoice): string {
  let j = jsonMemo.get(c);
  if (j === undefined) {
    j = JSON.stringify(c.text);
    jsonMemo.set(c, j);
  }
  return j;
}
