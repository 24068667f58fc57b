// The Anthropic Messages request as the edge accepts it, validated before anything else runs: a bad
// body is an Anthropic 400 naming the field (e.g. "messages.1.role"), never a 500 three hops later.
// Fields the gateway does not act on (thinking, service_tier, container...) pass through and are ignored.
import { z } from "zod";
import { errors, type GatewayError } from "#libs/errors/openai-error.ts";
import { isJsonObject } from "../json-body.ts";

const cacheControl = z.object({ type: z.literal("ephemeral"), ttl: z.enum(["5m", "1h"]).optional() }).passthrough().nullable().optional();

const textBlock = z.object({ type: z.literal("text"), text: z.string(), cache_control: cacheControl }).passthrough();

const imageSource = z.discriminatedUnion("type", [
  z.object({ type: z.literal("base64"), media_type: z.enum(["image/jpeg", "image/png", "image/gif", "image/webp"]), data: z.string().min(1) }).passthrough(),
  z.object({ type: z.literal("url"), url: z.string().url() }).passthrough(),
]);
const imageBlock = z.object({ type: z.literal("image"), source: imageSource, cache_control: cacheControl }).passthrough();

const toolUseBlock = z.object({ type: z.literal("tool_use"), id: z.string().min(1), name: z.string().min(1), input: z.unknown(), cache_control: cacheControl }).passthrough();

const toolResultBlock = z
  .object({
    type: z.literal("tool_result"),
    tool_use_id: z.string().min(1),
    content: z.union([z.string(), z.array(z.discriminatedUnion("type", [textBlock, imageBlock]))]).optional(),
    is_error: z.boolean().optional(),
    cache_control: cacheControl,
  })
  .passthrough();

/** Extended-thinking blocks from an earlier turn: accepted (clients send their history back) and dropped. */
const thinkingBlock = z.object({ type: z.enum(["thinking", "redacted_thinking"]) }).passthrough();

const contentBlock = z.discriminatedUnion("type", [textBlock, imageBlock, toolUseBlock, toolResultBlock, thinkingBlock]);

const message = z
  .object({ role: z.enum(["user", "assistant"]), content: z.union([z.string(), z.array(contentBlock)]) })
  .passthrough()
  .superRefine((m, ctx) => {
    if (typeof m.content === "string") return;
    m.content.forEach((b, j) => {
      if (m.role === "user" && b.type === "tool_use") ctx.addIssue({ code: "custom", path: ["content", j, "type"], message: "tool_use blocks belong to assistant messages" });
      if (m.role === "assistant" && (b.type === "tool_result" || b.type === "image")) ctx.addIssue({ code: "custom", path: ["content", j, "type"], message: `${b.type} blocks belong to user messages` });
    });
  });

const tool = z
  .object({
    // Client tools only: server tools (web search, code execution...) run on Anthropic's side.
    type: z.literal("custom").optional(),
    name: z.string().min(1).max(128),
    description: z.string().optional(),
    input_schema: z.object({ type: z.literal("object") }).passthrough(),
    cache_control: cacheControl,
  })
  .passthrough();

const toolChoice = z.discriminatedUnion("type", [
  z.object({ type: z.literal("auto"), disable_parallel_tool_use: z.boolean().optional() }).passthrough(),
  z.object({ type: z.literal("any"), disable_parallel_tool_use: z.boolean().optional() }).passthrough(),
  z.object({ type: z.literal("tool"), name: z.string().min(1), disable_parallel_tool_use: z.boolean().optional() }).passthrough(),
  z.object({ type: z.literal("none") }).passthrough(),
]);

const countTokensShape = {
  model: z.string().min(1),
  messages: z.array(message).min(1),
  system: z.union([z.string(), z.array(textBlock)]).optional(),
  tools: z.array(tool).optional(),
  tool_choice: toolChoice.optional(),
};

export const countTokensSchema = z.object(countTokensShape).passthrough();

export const messagesRequestSchema = z
  .object({
    ...countTokensShape,
    max_tokens: z.number().int().min(1),
    stop_sequences: z.array(z.string().min(1)).optional(),
    temperature: z.number().min(0).max(1).optional(),
    top_p: z.number().min(0).max(1).optional(),
    top_k: z.number().int().min(0).optional(),
    metadata: z.object({ user_id: z.string().nullable().optional() }).passthrough().optional(),
    stream: z.boolean().optional(),
  })
  .passthrough()
  .superRefine((r, ctx) => {
    if (r.messages[0]?.role !== "user") ctx.addIssue({ code: "custom", path: ["messages", 0, "role"], message: "the first message must use the user role" });
  });

export type MessagesRequest = z.infer<typeof messagesRequestSchema>;
export type CountTokensRequest = z.infer<typeof countTokensSchema>;
export type ContentBlock = z.infer<typeof contentBlock>;
export type TextBlock = z.infer<typeof textBlock>;
export type ImageBlock = z.infer<typeof imageBlock>;
export type ToolResultBlock = z.infer<typeof toolResultBlock>;
export type CacheControlParam = z.infer<typeof cacheControl>;
export type ToolParam = z.infer<typeof tool>;
export type ToolChoiceParam = z.infer<typeof toolChoice>;

type Parsed<T> = { ok: true; value: T } | { ok: false; error: GatewayError };

export const validateMessagesRequest = (body: unknown): Parsed<MessagesRequest> => validate(messagesRequestSchema, body);
export const validateCountTokensRequest = (body: unknown): Parsed<CountTokensRequest> => validate(countTokensSchema, body);

function validate<S extends z.ZodTypeAny>(schema: S, body: unknown): Parsed<z.infer<S>> {
  if (!isJsonObject(body)) return { ok: false, error: errors.badRequest("Request body must be a JSON object.") };
  const r = schema.safeParse(body);
  if (r.success) return { ok: true, value: r.data as z.infer<S> };
  const issue = deepest(r.error.issues[0]);
  // Anthropic names fields with dots ("messages.0.content.1.type").
  const param = issue ? issue.path.join(".") : "";
  const missing = issue?.code === "invalid_type" && issue.received === "undefined";
  const what = missing ? "Field required" : issue?.message ?? "is invalid";
  return { ok: false, error: errors.badRequest(`${param}: ${what}`, param || null, missing ? "missing_required_parameter" : "invalid_value") };
}

/**
 * A union's own issue only says "invalid input" at the union (e.g. messages.0.content, string or
 * blocks); the deepest issue among its branches names the field actually at fault.
 */
function deepest(issue: z.ZodIssue | undefined): z.ZodIssue | undefined {
  if (issue?.code !== "invalid_union") return issue;
  let best: z.ZodIssue | undefined;
  for (const branch of issue.unionErrors) {
    for (const i of branch.issues) {
      const d = deepest(i);
      if (d && (!best || d.path.length > best.path.length)) best = d;
    }
  }
  return best ?? issue;
}
