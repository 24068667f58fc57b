// Anthropic Messages API: request parsing (system, blocks, tools, cache_control) and response / SSE events.
import { admit } from "./admission.ts";
import { complete, textJson, type CompletionChoice, type NeutralRequest } from "./completion.ts";
import { combineHash, hashString } from "./hash.ts";
import { isRecord, jsonString, positiveInt, str, type JsonRecord } from "./json-util.ts";
import { parseMarkers } from "./markers.ts";
import { errorOutcome, jsonOutcome, type Outcome } from "./outcome.ts";
import { anthropicCacheUsage, type AnthropicCacheUsage, type PromptSegment } from "./prompt-cache.ts";
import type { SimState } from "./state.ts";
import { textInfo } from "./tokens.ts";
import type { ToolChoice, ToolDef } from "./tools.ts";

const PER_MESSAGE = 4;
const IMAGE_TOKENS = 1100;
const ONE_HOUR = 3_600_000;

function cacheControl(block: JsonRecord): { breakpoint?: boolean; ttlMs?: number } {
  const cc = block["cache_control"];
  if (!isRecord(cc) || cc["type"] !== "ephemeral") return {};
  return cc["ttl"] === "1h" ? { breakpoint: true, ttlMs: ONE_HOUR } : { breakpoint: true };
}

function textOfToolResult(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((b) => (isRecord(b) ? (str(b["text"]) ?? "") : "")).join("\n");
}

/** One segment per content block; cache_control is excluded from the hash so prefixes match across turns. */
function blockSegment(block: JsonRecord): { seg: PromptSegment; text: string; isText: boolean; isToolResult: boolean } {
  const type = str(block["type"]) ?? "text";
  const cc = cacheControl(block);
  let key: string;
  let extra = 0;
  let text = "";
  switch (type) {
    case "text":
      text = str(block["text"]) ?? "";
      key = text;
      break;
    case "tool_use":
      key = `${str(block["name"]) ?? ""}${JSON.stringify(block["input"] ?? {})}`;
      extra = 3;
      break;
    case "tool_result":
      key = textOfToolResult(block["content"]);
      extra = 3;
      break;
    case "image":
    case "document":
      key = JSON.stringify(block["source"] ?? null).slice(0, 4096);
      extra = IMAGE_TOKENS;
      break;
    default:
      key = JSON.stringify(block);
  }
  const info = textInfo(key);
  const tokens = type === "image" || type === "document" ? extra : info.tokens + extra;
  return {
    seg: { hash: combineHash(hashString(type), info.hash), tokens, ...cc },
    text,
    isText: type === "text",
    isToolResult: type === "tool_result",
  };
}

function parseTools(v: unknown): { defs: ToolDef[]; segments: PromptSegment[] } {
  const defs: ToolDef[] = [];
  const segments: PromptSegment[] = [];
  if (!Array.isArray(v)) return { defs, segments };
  for (const t of v) {
    if (!isRecord(t)) continue;
    const name = str(t["name"]);
    if (name === undefined) continue;
    const description = str(t["description"]) ?? "";
    const schema = t["input_schema"] ?? { type: "object", properties: {} };
    defs.push({ name, description, schema });
    const info = textInfo(`${name}\n${description}\n${JSON.stringify(schema)}`);
    segments.push({ hash: info.hash, tokens: info.tokens + 5, ...cacheControl(t) });
  }
  return { defs, segments };
}

function parseToolChoice(v: unknown): ToolChoice {
  if (!isRecord(v)) return { mode: "auto" };
  switch (v["type"]) {
    case "none":
      return { mode: "none" };
    case "any":
      return { mode: "required" };
    case "tool": {
      const name = str(v["name"]);
      return name !== undefined ? { mode: "named", name } : { mode: "required" };
    }
    default:
      return { mode: "auto" };
  }
}

function invalid(message: string): Outcome {
  return errorOutcome("anthropic", { status: 400, message });
}

interface ParsedMessages {
  req: NeutralRequest;
  stream: boolean;
  cache: AnthropicCacheUsage;
}

function parse(state: SimState, body: JsonRecord): ParsedMessages | Outcome {
  const modelId = str(body["model"]);
  if (modelId === undefined) return invalid("model: Field required");
  const maxTokens = positiveInt(body["max_tokens"]);
  if (maxTokens === undefined) return invalid("max_tokens: Field required");
  const messages = body["messages"];
  if (!Array.isArray(messages) || messages.length === 0) return invalid("messages: at least one message is required");
  const model = state.chatModel(modelId);
  if (model === undefined) return errorOutcome("anthropic", { status: 404, message: `model: ${modelId}` });

  const tools = parseTools(body["tools"]);
  const segments: PromptSegment[] = [...tools.segments];
  const system = body["system"];
  if (typeof system === "string" && system.length > 0) {
    const info = textInfo(system);
    segments.push({ hash: combineHash(hashString("system"), info.hash), tokens: info.tokens });
  } else if (Array.isArray(system)) {
    for (const b of system) if (isRecord(b)) segments.push(blockSegment(b).seg);
  }
  let convHash = 0;
  for (const s of segments) convHash = combineHash(convHash, s.hash);

  let lastUserText = "";
  let lastIsToolResult = false;
  for (let i = 0; i < messages.length; i++) {
    const m: unknown = messages[i];
    if (!isRecord(m)) return invalid(`messages.${i}: must be an object`);
    const role = str(m["role"]);
    if (role !== "user" && role !== "assistant") return invalid(`messages.${i}.role: Input should be 'user' or 'assistant'`);
    const content = m["content"];
    const isLast = i === messages.length - 1;
    let userText = "";
    let hasToolResult = false;
    if (typeof content === "string") {
      const info = textInfo(content);
      const seg = { hash: combineHash(hashString(role), info.hash), tokens: info.tokens + PER_MESSAGE };
      segments.push(seg);
      convHash = combineHash(convHash, seg.hash);
      userText = content;
    } else if (Array.isArray(content)) {
      let first = true;
      for (const b of content) {
        if (!isRecord(b)) continue;
        const r = blockSegment(b);
        const seg = first ? { ...r.seg, hash: combineHash(hashString(role), r.seg.hash), tokens: r.seg.tokens + PER_MESSAGE } : r.seg;
        first = false;
        segments.push(seg);
        convHash = combineHash(convHash, seg.hash);
        if (r.isText) userText += userText.length > 0 ? `\n${r.text}` : r.text;
        if (r.isToolResult) hasToolResult = true;
      }
    } else return invalid(`messages.${i}.content: Field required`);
    if (role === "user" && userText.length > 0) lastUserText = userText;
    if (isLast) lastIsToolResult = role === "user" && hasToolResult;
  }
  let promptTokens = 0;
  for (const s of segments) promptTokens += s.tokens;

  const markers = parseMarkers(lastUserText);
  const denied = admit(state, "anthropic", model, markers, promptTokens, maxTokens);
  if (denied !== undefined) return denied;

  const stop = Array.isArray(body["stop_sequences"]) ? body["stop_sequences"].filter((s): s is string => typeof s === "string") : [];
  return {
    req: {
      model,
      segments,
      promptTokens,
      conversationHash: convHash,
      lastUserText,
      lastIsToolResult,
      markers,
      tools: tools.defs,
      toolChoice: parseToolChoice(body["tool_choice"]),
      maxTokens,
      stop,
      responseFormat: { type: "text" },
      n: 1,
      replayText: state.replayText(model.id, messages),
    },
    stream: body["stream"] === true,
    cache: anthropicCacheUsage(state.prefixes, model.id, segments, promptTokens),
  };
}

function stopReason(c: CompletionChoice): string {
  switch (c.finish) {
    case "length":
      return "max_tokens";
    case "tool_calls":
      return "tool_use";
    case "stop_sequence":
      return "stop_sequence";
    default:
      return "end_turn";
  }
}

function toolUseId(c: CompletionChoice): string {
  return `toolu_${(c.tool?.callHash ?? 0).toString(36).padStart(11, "0")}`;
}

function usageJson(cache: AnthropicCacheUsage, outputTokens: number): string {
  return (
    `{"input_tokens":${cache.inputTokens},"cache_creation_input_tokens":${cache.cacheCreationInputTokens},` +
    `"cache_read_input_tokens":${cache.cacheReadInputTokens},"cache_creation":{"ephemeral_5m_input_tokens":${cache.creation5m},` +
    `"ephemeral_1h_input_tokens":${cache.creation1h}},"output_tokens":${outputTokens},"service_tier":"standard"}`
  );
}

function parsedToolInput(c: CompletionChoice): unknown {
  try {
    return JSON.parse(c.tool?.argumentsJson ?? "{}");
  } catch {
    return {}; // arguments cut by max_tokens
  }
}

export function createMessage(state: SimState, body: JsonRecord, allowStream = true): Outcome {
  const parsed = parse(state, body);
  if ("kind" in parsed) return parsed;
  const c = complete(parsed.req)[0] as CompletionChoice;
  const id = state.nextId("msg_");
  const model = parsed.req.model.id;
  const slow = parsed.req.markers.slowMs;
  if (parsed.stream && allowStream) return streamOutcome(parsed, c, id, model, slow);
  let content = "";
  if (c.tool !== undefined) content = JSON.stringify({ type: "tool_use", id: toolUseId(c), name: c.tool.name, input: parsedToolInput(c) });
  else if (c.text.length > 0) content = `{"type":"text","text":${textJson(c)}}`;
  // Hand-built JSON on the hot path; only the text needs escaping and that is memoized per choice.
  const response =
    `{"id":"${id}","type":"message","role":"assistant","model":${JSON.stringify(model)},"content":[${content}],` +
    `"stop_reason":"${stopReason(c)}","stop_sequence":${c.stopSequence !== undefined ? JSON.stringify(c.stopSequence) : "null"},` +
    `"usage":${usageJson(parsed.cache, c.outputTokens)}}`;
  return jsonOutcome(response, c.outputTokens, slow);
}

function event(name: string, data: string): string {
  return `event: ${name}\ndata: ${data}\n\n`;
}

function streamOutcome(p: ParsedMessages, c: CompletionChoice, id: string, model: string, slowMs: number): Outcome {
  const frames: string[] = [];
  const frameTokens: number[] = [];
  const push = (name: string, data: string, tokens = 0): void => {
    frames.push(event(name, data));
    frameTokens.push(tokens);
  };
  push(
    "message_start",
    `{"type":"message_start","message":{"id":"${id}","type":"message","role":"assistant","model":${JSON.stringify(model)},` +
      `"content":[],"stop_reason":null,"stop_sequence":null,"usage":${usageJson(p.cache, 1)}}}`,
  );
  if (c.tool !== undefined) {
    const block = { type: "tool_use", id: toolUseId(c), name: c.tool.name, input: {} };
    push("content_block_start", `{"type":"content_block_start","index":0,"content_block":${JSON.stringify(block)}}`);
    push("ping", `{"type":"ping"}`);
    for (const piece of c.tool.argPieces) {
      push("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":${jsonString(piece)}}}`, 1);
    }
    push("content_block_stop", `{"type":"content_block_stop","index":0}`);
  } else if (c.pieces.length > 0) {
    push("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`);
    push("ping", `{"type":"ping"}`);
    for (const piece of c.pieces) {
      push("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":${jsonString(piece)}}}`, 1);
    }
    push("content_block_stop", `{"type":"content_block_stop","index":0}`);
  }
  const finalUsage = {
    input_tokens: p.cache.inputTokens,
    cache_creation_input_tokens: p.cache.cacheCreationInputTokens,
    cache_read_input_tokens: p.cache.cacheReadInputTokens,
    output_tokens: c.outputTokens,
  };
  push(
    "message_delta",
    JSON.stringify({ type: "message_delta", delta: { stop_reason: stopReason(c), stop_sequence: c.stopSequence ?? null }, usage: finalUsage }),
  );
  push("message_stop", `{"type":"message_stop"}`);
  return { kind: "sse", frames, frameTokens, extraDelayMs: slowMs };
}

/** POST /v1/messages/count_tokens */
export function countMessageTokens(state: SimState, body: JsonRecord): Outcome {
  const copy: JsonRecord = body;
  const model = state.chatModel(str(body["model"]) ?? "");
  if (model === undefined) return errorOutcome("anthropic", { status: 404, message: `model: ${str(body["model"]) ?? ""}` });
  // Counted without touching stats or the prompt cache (counting is not a model call).
  let tokens = 0;
  const system = copy["system"];
  if (typeof system === "string") tokens += textInfo(system).tokens;
  else if (Array.isArray(system)) for (const b of system) if (isRecord(b)) tokens += blockSegment(b).seg.tokens;
  tokens += parseTools(copy["tools"]).segments.reduce((a, s) => a + s.tokens, 0);
  const messages = Array.isArray(copy["messages"]) ? copy["messages"] : [];
  for (const m of messages) {
    if (!isRecord(m)) continue;
    const content = m["content"];
    if (typeof content === "string") tokens += textInfo(content).tokens + PER_MESSAGE;
    else if (Array.isArray(content)) {
      tokens += PER_MESSAGE;
      for (const b of content) if (isRecord(b)) tokens += blockSegment(b).seg.tokens;
    }
  }
  return jsonOutcome(JSON.stringify({ input_tokens: tokens }));
}
