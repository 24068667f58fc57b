// OpenAI Chat Completions: request parsing into the neutral form, and response / SSE chunk rendering.
import { admit } from "./admission.ts";
import { complete, textJson, type CompletionChoice, type NeutralRequest, type ResponseFormat } from "./completion.ts";
import { combineHash, hashString } from "./hash.ts";
import { isRecord, jsonString, nowSec, positiveInt, str, type JsonRecord } from "./json-util.ts";
import { parseMarkers } from "./markers.ts";
import { errorOutcome, jsonOutcome, type Outcome } from "./outcome.ts";
import { openaiCachedTokens, type PromptSegment } from "./prompt-cache.ts";
import type { SimState } from "./state.ts";
import { textInfo } from "./tokens.ts";
import type { ToolChoice, ToolDef } from "./tools.ts";

const PER_MESSAGE = 4; // role + message framing tokens, as OpenAI counts them
const REPLY_PRIMING = 3;
const IMAGE_TOKENS = 85;

const roleHashes = new Map<string, number>();
function roleHash(role: string): number {
  let h = roleHashes.get(role);
  if (h === undefined) {
    h = hashString(`role:${role}`);
    roleHashes.set(role, h);
  }
  return h;
}

/** Text of a message's content (string or parts); images add tokens but no text. */
function contentOf(content: unknown): { text: string; extraTokens: number; extraHash: number } {
  if (typeof content === "string") return { text: content, extraTokens: 0, extraHash: 0 };
  if (!Array.isArray(content)) return { text: "", extraTokens: 0, extraHash: 0 };
  let text = "";
  let extraTokens = 0;
  let extraHash = 0;
  for (const part of content) {
    if (!isRecord(part)) continue;
    const t = str(part["text"]) ?? str(part["refusal"]);
    if (t !== undefined) text += text.length > 0 ? `\n${t}` : t;
    else if (part["type"] === "image_url") {
      extraTokens += IMAGE_TOKENS;
      const url = isRecord(part["image_url"]) ? str(part["image_url"]["url"]) : undefined;
      extraHash = combineHash(extraHash, hashString(url ?? "image"));
    }
  }
  return { text, extraTokens, extraHash };
}

function parseTools(v: unknown): ToolDef[] {
  if (!Array.isArray(v)) return [];
  const out: ToolDef[] = [];
  for (const t of v) {
    if (!isRecord(t) || !isRecord(t["function"])) continue;
    const f = t["function"];
    const name = str(f["name"]);
    if (name !== undefined) out.push({ name, description: str(f["description"]) ?? "", schema: f["parameters"] ?? { type: "object", properties: {} } });
  }
  return out;
}

function parseToolChoice(v: unknown): ToolChoice {
  if (v === "none") return { mode: "none" };
  if (v === "required") return { mode: "required" };
  if (isRecord(v) && isRecord(v["function"])) {
    const name = str(v["function"]["name"]);
    if (name !== undefined) return { mode: "named", name };
  }
  return { mode: "auto" };
}

function parseResponseFormat(v: unknown): ResponseFormat {
  if (!isRecord(v)) return { type: "text" };
  if (v["type"] === "json_object") return { type: "json_object" };
  if (v["type"] === "json_schema") {
    const js = isRecord(v["json_schema"]) ? v["json_schema"]["schema"] : undefined;
    return { type: "json_schema", schema: js ?? { type: "object", properties: {} } };
  }
  return { type: "text" };
}

function parseStop(v: unknown): string[] {
  if (typeof v === "string") return [v];
  if (Array.isArray(v)) return v.filter((s): s is string => typeof s === "string");
  return [];
}

function invalid(message: string, param?: string): Outcome {
  return errorOutcome("openai", { status: 400, message, ...(param !== undefined ? { param } : {}) });
}

interface ParsedChat {
  req: NeutralRequest;
  stream: boolean;
  includeUsage: boolean;
  cachedTokens: number;
}

function parse(state: SimState, body: JsonRecord): ParsedChat | Outcome {
  const modelId = str(body["model"]);
  if (modelId === undefined) return invalid("you must provide a model parameter", "model");
  const messages = body["messages"];
  if (!Array.isArray(messages) || messages.length === 0) return invalid("'messages' must be a non-empty array", "messages");
  const model = state.chatModel(modelId);
  if (model === undefined) {
    return errorOutcome("openai", {
      status: 404,
      message: `The model \`${modelId}\` does not exist or you do not have access to it.`,
      code: "model_not_found",
    });
  }

  const tools = parseTools(body["tools"]);
  const segments: PromptSegment[] = [];
  let promptTokens = REPLY_PRIMING;
  if (tools.length > 0) {
    const info = textInfo(JSON.stringify(body["tools"]));
    segments.push({ hash: info.hash, tokens: info.tokens });
    promptTokens += info.tokens;
  }
  let convHash = 0;
  let lastUserText = "";
  let lastRole = "";
  for (const m of messages) {
    if (!isRecord(m)) return invalid("each message must be an object", "messages");
    const role = str(m["role"]);
    if (role === undefined) return invalid("each message needs a role", "messages");
    const c = contentOf(m["content"]);
    const info = textInfo(c.text);
    let tokens = PER_MESSAGE + info.tokens + c.extraTokens;
    let hash = combineHash(roleHash(role), info.hash);
    if (c.extraHash !== 0) hash = combineHash(hash, c.extraHash);
    if (typeof m["name"] === "string") tokens += 1;
    const calls = m["tool_calls"];
    if (Array.isArray(calls)) {
      for (const call of calls) {
        if (!isRecord(call) || !isRecord(call["function"])) continue;
        const fn = call["function"];
        const callInfo = textInfo(`${str(fn["name"]) ?? ""}${str(fn["arguments"]) ?? ""}`);
        tokens += callInfo.tokens + 3;
        hash = combineHash(hash, callInfo.hash);
      }
    }
    segments.push({ hash, tokens });
    promptTokens += tokens;
    convHash = combineHash(convHash, hash);
    if (role === "user") lastUserText = c.text;
    lastRole = role;
  }

  const markers = parseMarkers(lastUserText);
  const maxTokens = positiveInt(body["max_completion_tokens"]) ?? positiveInt(body["max_tokens"]);
  const denied = admit(state, "openai", model, markers, promptTokens, maxTokens);
  if (denied !== undefined) return denied;

  const n = Math.min(positiveInt(body["n"]) ?? 1, 16);
  const streamOptions = body["stream_options"];
  return {
    req: {
      model,
      segments,
      promptTokens,
      conversationHash: convHash,
      lastUserText,
      lastIsToolResult: lastRole === "tool",
      markers,
      tools,
      toolChoice: parseToolChoice(body["tool_choice"]),
      maxTokens,
      stop: parseStop(body["stop"]),
      responseFormat: parseResponseFormat(body["response_format"]),
      n,
      replayText: state.replayText(model.id, messages),
    },
    stream: body["stream"] === true,
    includeUsage: isRecord(streamOptions) && streamOptions["include_usage"] === true,
    cachedTokens: openaiCachedTokens(state.prefixes, model.id, segments, promptTokens),
  };
}

function finishReason(c: CompletionChoice): string {
  return c.finish === "stop_sequence" ? "stop" : c.finish;
}

function callId(c: CompletionChoice): string {
  return `call_${(c.tool?.callHash ?? 0).toString(36).padStart(11, "0")}`;
}

function usageJson(p: ParsedChat, choices: readonly CompletionChoice[]): string {
  let completion = 0;
  let reasoning = 0;
  for (const c of choices) {
    completion += c.outputTokens;
    reasoning += c.reasoningTokens;
  }
  const prompt = p.req.promptTokens;
  return (
    `{"prompt_tokens":${prompt},"completion_tokens":${completion},"total_tokens":${prompt + completion},` +
    `"prompt_tokens_details":{"cached_tokens":${p.cachedTokens},"audio_tokens":0},` +
    `"completion_tokens_details":{"reasoning_tokens":${reasoning},"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}`
  );
}

/** Hand-built JSON (the hot path): only the answer text needs escaping, and that is memoized per choice. */
function choiceJson(c: CompletionChoice, index: number): string {
  let message: string;
  if (c.tool !== undefined) {
    const calls = JSON.stringify([{ id: callId(c), type: "function", function: { name: c.tool.name, arguments: c.tool.argumentsJson } }]);
    message = `{"role":"assistant","content":null,"refusal":null,"annotations":[],"tool_calls":${calls}}`;
  } else {
    message = `{"role":"assistant","content":${textJson(c)},"refusal":null,"annotations":[]}`;
  }
  return `{"index":${index},"message":${message},"logprobs":null,"finish_reason":"${finishReason(c)}"}`;
}

/** Result for a parsed request body (also used by batches, which never stream). */
export function chatCompletion(state: SimState, body: JsonRecord, allowStream = true): Outcome {
  const parsed = parse(state, body);
  if ("kind" in parsed) return parsed;
  const choices = complete(parsed.req);
  const id = state.nextId("chatcmpl-");
  const created = nowSec();
  const model = parsed.req.model.id;
  const slow = parsed.req.markers.slowMs;
  if (parsed.stream && allowStream) return streamOutcome(parsed, choices, id, created, model, slow);
  let out = 0;
  let choicesJson = "";
  for (let i = 0; i < choices.length; i++) {
    const c = choices[i] as CompletionChoice;
    out += c.outputTokens;
    choicesJson += i === 0 ? choiceJson(c, i) : `,${choiceJson(c, i)}`;
  }
  const response =
    `{"id":"${id}","object":"chat.completion","created":${created},"model":${JSON.stringify(model)},` +
    `"choices":[${choicesJson}],"usage":${usageJson(parsed, choices)},"service_tier":"default","system_fingerprint":"fp_sim"}`;
  return jsonOutcome(response, out, slow);
}

function streamOutcome(p: ParsedChat, choices: readonly CompletionChoice[], id: string, created: number, model: string, slowMs: number): Outcome {
  const usageNull = p.includeUsage ? ',"usage":null' : "";
  const head = `data: {"id":"${id}","object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(model)},"service_tier":"default","system_fingerprint":"fp_sim","choices":[`;
  const tail = `]${usageNull}}\n\n`;
  const frames: string[] = [];
  const frameTokens: number[] = [];
  const push = (choiceJson: string, tokens: number): void => {
    frames.push(head + choiceJson + tail);
    frameTokens.push(tokens);
  };
  choices.forEach((c, i) => {
    if (c.tool !== undefined) {
      const first = { role: "assistant", content: null, refusal: null, tool_calls: [{ index: 0, id: callId(c), type: "function", function: { name: c.tool.name, arguments: "" } }] };
      push(`{"index":${i},"delta":${JSON.stringify(first)},"logprobs":null,"finish_reason":null}`, 0);
      for (const piece of c.tool.argPieces) {
        push(`{"index":${i},"delta":{"tool_calls":[{"index":0,"function":{"arguments":${jsonString(piece)}}}]},"logprobs":null,"finish_reason":null}`, 1);
      }
    } else {
      push(`{"index":${i},"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}`, 0);
      for (const piece of c.pieces) {
        push(`{"index":${i},"delta":{"content":${jsonString(piece)}},"logprobs":null,"finish_reason":null}`, 1);
      }
    }
    push(`{"index":${i},"delta":{},"logprobs":null,"finish_reason":"${finishReason(c)}"}`, 0);
  });
  if (p.includeUsage) {
    frames.push(
      `data: {"id":"${id}","object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(model)},"service_tier":"default","system_fingerprint":"fp_sim","choices":[],"usage":${usageJson(p, choices)}}\n\n`,
    );
    frameTokens.push(0);
  }
  frames.push("data: [DONE]\n\n");
  frameTokens.push(0);
  return { kind: "sse", frames, frameTokens, extraDelayMs: slowMs };
}
