// Validates the OpenAI chat completion body at the edge. Errors name the offending field (OpenAI's
// `param`), so a client sees "messages[1].role" rather than a 500 three hops later.
// Unknown fields pass through untouched: providers add parameters faster than gateways do.
import { z } from "zod";
import type OpenAI from "openai";
import { errors, type GatewayError } from "#libs/errors/openai-error.ts";
import { isJsonObject } from "./json-body.ts";

const contentPart = z
  .object({ type: z.string().min(1) })
  .passthrough();

const message = z
  .object({
    role: z.enum(["system", "developer", "user", "assistant", "tool", "function"]),
    content: z.union([z.string(), z.array(contentPart), z.null()]).optional(),
    name: z.string().optional(),
    tool_call_id: z.string().optional(),
    tool_calls: z.array(z.object({ id: z.string(), type: z.string(), function: z.object({ name: z.string(), arguments: z.string() }).passthrough() }).passthrough()).optional(),
  })
  .passthrough()
  .superRefine((m, ctx) => {
    if (m.role === "tool" && !m.tool_call_id) ctx.addIssue({ code: "custom", path: ["tool_call_id"], message: "is required for role 'tool'" });
    if (m.role !== "assistant" && (m.content === undefined || m.content === null)) {
      ctx.addIssue({ code: "custom", path: ["content"], message: `is required for role '${m.role}'` });
    }
  });

const tool = z
  .object({ type: z.string(), function: z.object({ name: z.string().min(1) }).passthrough().optional() })
  .passthrough();

// An output limit travels as int32 between the services; a model's own limit is checked when it is known.
const MAX_OUTPUT_TOKENS = 2_147_483_647;

export const chatRequestSchema = z
  .object({
    model: z.string().min(1),
    messages: z.array(message).min(1),
    stream: z.boolean().optional(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).passthrough().nullable().optional(),
    max_tokens: z.number().int().positive().max(MAX_OUTPUT_TOKENS, "is too large").nullable().optional(),
    max_completion_tokens: z.number().int().positive().max(MAX_OUTPUT_TOKENS, "is too large").nullable().optional(),
    temperature: z.number().min(0).max(2).nullable().optional(),
    top_p: z.number().min(0).max(1).nullable().optional(),
    n: z.number().int().min(1).max(1).nullable().optional(),
    presence_penalty: z.number().min(-2).max(2).nullable().optional(),
    frequency_penalty: z.number().min(-2).max(2).nullable().optional(),
    stop: z.union([z.string(), z.array(z.string()).max(4)]).nullable().optional(),
    tools: z.array(tool).optional(),
    tool_choice: z.unknown().optional(),
    response_format: z.object({ type: z.enum(["text", "json_object", "json_schema"]) }).passthrough().optional(),
    user: z.string().optional(),
    seed: z.number().int().nullable().optional(),
  })
  .passthrough();

export type ChatRequest = OpenAI.Chat.ChatCompletionCreateParams;

export function validateChatRequest(body: unknown): { ok: true; value: ChatRequest } | { ok: false; error: GatewayError } {
  if (!isJsonObject(body)) return { ok: false, error: errors.badRequest("Request body must be a JSON object.") };
  // Most bodies are plainly valid: the hand-written check accepts those (same output as zod) at a
  // fraction of zod's cost; anything it does not accept goes to zod, which words the error.
  const fast = fastParse(body);
  if (fast) return { ok: true, value: fast as unknown as ChatRequest };
  const r = chatRequestSchema.safeParse(body);
  if (r.success) return { ok: true, value: r.data as unknown as ChatRequest };
  const issue = r.error.issues[0];
  const param = issue ? formatPath(issue.path) : null;
  const what = issue?.code === "invalid_type" && issue.received === "undefined" ? "is required" : issue?.message ?? "is invalid";
  const code = issue?.code === "invalid_type" && issue.received === "undefined" ? "missing_required_parameter" : "invalid_value";
  return { ok: false, error: errors.badRequest(`Invalid request: '${param}' ${what.replace(/^Required$/, "is required")}.`, param, code) };
}

function formatPath(path: (string | number)[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out ? `.${p}` : p;
  return out;
}

// The fast path. It accepts only what chatRequestSchema accepts and returns what zod would: a copy of
// every object the schema describes (its own keys first, in schema order, then unknown keys in input
// order; "__proto__" and unknown keys holding undefined dropped), new arrays, other values as they are.
// Returning undefined means "not sure": zod decides. validate.test.ts compares the two on many bodies.
type Obj = Record<string, unknown>;

const TOP_KEYS = ["model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens", "temperature", "top_p", "n", "presence_penalty", "frequency_penalty", "stop", "tools", "tool_choice", "response_format", "user", "seed"];
const MESSAGE_KEYS = ["role", "content", "name", "tool_call_id", "tool_calls"];
const TOOL_CALL_KEYS = ["id", "type", "function"];
const FUNCTION_CALL_KEYS = ["name", "arguments"];
const TOOL_KEYS = ["type", "function"];
const TYPE_KEY = ["type"];
const NAME_KEY = ["name"];
const STREAM_OPTIONS_KEYS = ["include_usage"];
const ROLES = new Set(["system", "developer", "user", "assistant", "tool", "function"]);
const FORMATS = new Set(["text", "json_object", "json_schema"]);

/** What zod calls an object, plain ones only to be sure: a JSON object that is not promise-like. */
function isPlain(v: unknown): v is Obj {
  return isJsonObject(v) && typeof v.then !== "function";
}

/** The copy zod's passthrough object makes: `keys` that are present first, then the unknown ones. */
function copyOf(src: Obj, keys: readonly string[]): Obj {
  const out: Obj = {};
  for (const k of keys) if (k in src) out[k] = src[k];
  for (const k in src) {
    if (k === "__proto__" || keys.includes(k)) continue;
    const v = src[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

const optString = (v: unknown): boolean => v === undefined || typeof v === "string";
const finite = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
/** nullable().optional() number within [min, max]; integer when asked. */
const optNumber = (v: unknown, min: number, max: number, int = false): boolean => v === undefined || v === null || (finite(v) && v >= min && v <= max && (!int || Number.isInteger(v)));

function fastContentPart(p: unknown): Obj | undefined {
  if (!isPlain(p) || typeof p.type !== "string" || p.type.length === 0) return undefined;
  return copyOf(p, TYPE_KEY);
}

function fastToolCall(t: unknown): Obj | undefined {
  if (!isPlain(t) || typeof t.id !== "string" || typeof t.type !== "string") return undefined;
  const f = t.function;
  if (!isPlain(f) || typeof f.name !== "string" || typeof f.arguments !== "string") return undefined;
  const out = copyOf(t, TOOL_CALL_KEYS);
  out.function = copyOf(f, FUNCTION_CALL_KEYS);
  return out;
}

function fastMessage(m: unknown): Obj | undefined {
  if (!isPlain(m)) return undefined;
  const role = m.role;
  if (typeof role !== "string" || !ROLES.has(role)) return undefined;
  if (!optString(m.name) || !optString(m.tool_call_id)) return undefined;
  let content = m.content;
  if (Array.isArray(content)) {
    content = fastArray(content, fastContentPart);
    if (!content) return undefined;
  } else if (content !== undefined && content !== null && typeof content !== "string") return undefined;
  let toolCalls = m.tool_calls;
  if (toolCalls !== undefined) {
    toolCalls = fastArray(toolCalls, fastToolCall);
    if (!toolCalls) return undefined;
  }
  // The schema's refinements.
  if (role === "tool" && !m.tool_call_id) return undefined;
  if (role !== "assistant" && (content === undefined || content === null)) return undefined;
  const out = copyOf(m, MESSAGE_KEYS);
  // Assigning a key that is there keeps its place in the copy.
  if (content !== m.content) out.content = content;
  if (toolCalls !== m.tool_calls) out.tool_calls = toolCalls;
  return out;
}

function fastTool(t: unknown): Obj | undefined {
  if (!isPlain(t) || typeof t.type !== "string") return undefined;
  const f = t.function;
  if (f !== undefined && (!isPlain(f) || typeof f.name !== "string" || f.name.length === 0)) return undefined;
  const out = copyOf(t, TOOL_KEYS);
  if (f !== undefined) out.function = copyOf(f, NAME_KEY);
  return out;
}

function fastArray(v: unknown, each: (x: unknown) => Obj | undefined): Obj[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: Obj[] = [];
  for (const x of v) {
    const y = each(x);
    if (!y) return undefined;
    out.push(y);
  }
  return out;
}

/** chatRequestSchema's output for a body it surely accepts; undefined for anything else. */
export function fastParse(b: unknown): Obj | undefined {
  if (!isPlain(b)) return undefined;
  if (typeof b.model !== "string" || b.model.length === 0) return undefined;
  const messages = fastArray(b.messages, fastMessage);
  if (!messages || messages.length === 0) return undefined;
  if (b.stream !== undefined && typeof b.stream !== "boolean") return undefined;
  let streamOptions = b.stream_options;
  if (streamOptions !== undefined && streamOptions !== null) {
    if (!isPlain(streamOptions) || (streamOptions.include_usage !== undefined && typeof streamOptions.include_usage !== "boolean")) return undefined;
    streamOptions = copyOf(streamOptions, STREAM_OPTIONS_KEYS);
  }
  const inf = Number.POSITIVE_INFINITY;
  if (!optNumber(b.max_tokens, Number.MIN_VALUE, MAX_OUTPUT_TOKENS, true) || !optNumber(b.max_completion_tokens, Number.MIN_VALUE, MAX_OUTPUT_TOKENS, true)) return undefined;
  if (!optNumber(b.temperature, 0, 2) || !optNumber(b.top_p, 0, 1) || !optNumber(b.n, 1, 1, true)) return undefined;
  if (!optNumber(b.presence_penalty, -2, 2) || !optNumber(b.frequency_penalty, -2, 2) || !optNumber(b.seed, -inf, inf, true)) return undefined;
  let stop = b.stop;
  if (Array.isArray(stop)) {
    if (stop.length > 4 || !stop.every((x) => typeof x === "string")) return undefined;
    stop = stop.slice();
  } else if (stop !== undefined && stop !== null && typeof stop !== "string") return undefined;
  let tools = b.tools;
  if (tools !== undefined && !(tools = fastArray(tools, fastTool))) return undefined;
  let format = b.response_format;
  if (format !== undefined) {
    if (!isPlain(format) || typeof format.type !== "string" || !FORMATS.has(format.type)) return undefined;
    format = copyOf(format, TYPE_KEY);
  }
  if (!optString(b.user)) return undefined;
  const out = copyOf(b, TOP_KEYS);
  out.messages = messages;
  if (streamOptions !== b.stream_options) out.stream_options = streamOptions;
  if (stop !== b.stop) out.stop = stop;
  if (tools !== b.tools) out.tools = tools;
  if (format !== b.response_format) out.response_format = format;
  return out;
}
