// The Responses API request body, validated at the edge. Errors name the offending field (OpenAI's
// `param`, e.g. "input[2].content[0].type"), so a client sees a 400 it can act on, never a 500.
// What the gateway does not do (hosted tools, file inputs, background runs) is refused by name.
import { z } from "zod";
import { errors, type GatewayError } from "#libs/errors/openai-error.ts";
import { isJsonObject } from "../json-body.ts";

const textPart = z.object({ type: z.enum(["input_text", "output_text"]), text: z.string() }).passthrough();
const refusalPart = z.object({ type: z.literal("refusal"), refusal: z.string() }).passthrough();
const imagePart = z
  .object({
    type: z.literal("input_image"),
    image_url: z.string().min(1).nullable().optional(),
    file_id: z.string().nullable().optional(),
    detail: z.enum(["low", "high", "auto", "original"]).optional(),
  })
  .passthrough();
const contentPart = z.discriminatedUnion("type", [textPart, refusalPart, imagePart]).superRefine((p, ctx) => {
  if (p.type === "input_image" && !p.image_url) ctx.addIssue({ code: "custom", path: ["image_url"], message: "is required (file_id images are not supported by the gateway; pass a URL or a data: URL)" });
});

const messageItem = z
  .object({
    type: z.literal("message"),
    role: z.enum(["user", "assistant", "system", "developer"]),
    content: z.union([z.string(), z.array(contentPart)]),
    id: z.string().optional(),
  })
  .passthrough();
const functionCallItem = z
  .object({ type: z.literal("function_call"), call_id: z.string().min(1), name: z.string().min(1), arguments: z.string(), id: z.string().optional() })
  .passthrough();
const functionCallOutputItem = z
  .object({ type: z.literal("function_call_output"), call_id: z.string().min(1), output: z.union([z.string(), z.array(contentPart)]) })
  .passthrough();
// Reasoning items sent back by clients are the provider's own state; the gateway's models do not take them.
const reasoningItem = z.object({ type: z.literal("reasoning") }).passthrough();
const itemReference = z.object({ type: z.literal("item_reference"), id: z.string().min(1) }).passthrough();

/** A message without `type` is an "easy input message". */
const withMessageType = (v: unknown): unknown => (isObject(v) && v["type"] === undefined && "role" in v ? { ...v, type: "message" } : v);
const inputItem = z.preprocess(withMessageType, z.discriminatedUnion("type", [messageItem, functionCallItem, functionCallOutputItem, reasoningItem, itemReference]));

const functionTool = z
  .object({
    type: z.literal("function"),
    name: z.string().min(1).max(64).regex(/^[a-zA-Z0-9_-]+$/, "must be letters, digits, '_' or '-'"),
    description: z.string().nullable().optional(),
    parameters: z.record(z.unknown()).nullable().optional(),
    strict: z.boolean().nullable().optional(),
  })
  .passthrough();

const toolChoice = z.union([
  z.enum(["none", "auto", "required"]),
  z.object({ type: z.literal("function"), name: z.string().min(1) }).passthrough(),
]);

const textFormat = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text") }).passthrough(),
  z.object({ type: z.literal("json_object") }).passthrough(),
  z
    .object({
      type: z.literal("json_schema"),
      name: z.string().min(1).max(64).regex(/^[a-zA-Z0-9_-]+$/, "must be letters, digits, '_' or '-'"),
      schema: z.record(z.unknown()),
      description: z.string().optional(),
      strict: z.boolean().nullable().optional(),
    })
    .passthrough(),
]);

export const responsesRequestSchema = z
  .object({
    model: z.string().min(1),
    input: z.union([z.string(), z.array(inputItem).min(1)]),
    instructions: z.string().nullable().optional(),
    previous_response_id: z.string().regex(/^resp_[A-Za-z0-9_-]+$/, "must be a response id (resp_...)").nullable().optional(),
    tools: z.array(z.discriminatedUnion("type", [functionTool])).optional(),
    tool_choice: toolChoice.optional(),
    parallel_tool_calls: z.boolean().nullable().optional(),
    text: z.object({ format: textFormat.optional() }).passthrough().nullable().optional(),
    max_output_tokens: z.number().int().min(1).nullable().optional(),
    temperature: z.number().min(0).max(2).nullable().optional(),
    top_p: z.number().min(0).max(1).nullable().optional(),
    metadata: z
      .record(z.string().max(64), z.string().max(512))
      .refine((m) => Object.keys(m).length <= 16, "may hold at most 16 keys")
      .nullable()
      .optional(),
    store: z.boolean().nullable().optional(),
    stream: z.boolean().nullable().optional(),
    user: z.string().optional(),
    background: z.literal(false, { errorMap: () => ({ message: "background responses are not supported by the gateway" }) }).nullable().optional(),
    // Reasoning models' effort goes to the chat request (reasoning_effort); summaries are not produced.
    reasoning: z
      .object({ effort: z.enum(["none", "minimal", "low", "medium", "high", "xhigh", "max"]).nullable().optional() })
      .passthrough()
      .nullable()
      .optional(),
    conversation: z.undefined({ errorMap: () => ({ message: "conversation objects are not supported by the gateway; chain turns with previous_response_id" }) }).optional(),
  })
  .passthrough();

/** Stored turns are read back through the same schema (their input and output items). */
export const inputItemsSchema = z.array(inputItem);

export type ResponsesRequest = z.infer<typeof responsesRequestSchema>;
export type InputItem = z.infer<typeof inputItem>;
export type ContentPart = z.infer<typeof contentPart>;

/** `maxItems`: the most input items (edge.limits.messages, as chat's messages), counted before the schema walks them. */
export function validateResponsesRequest(body: unknown, maxItems = Number.POSITIVE_INFINITY): { ok: true; value: ResponsesRequest } | { ok: false; error: GatewayError } {
  if (!isJsonObject(body)) return { ok: false, error: errors.badRequest("Request body must be a JSON object.") };
  const input = body["input"];
  if (Array.isArray(input) && input.length > maxItems) {
    return { ok: false, error: errors.badRequest(`'input' has ${input.length} items, over the limit of ${maxItems} (edge.limits.messages).`, "input", "too_many_messages") };
  }
  const r = responsesRequestSchema.safeParse(body);
  if (r.success) return { ok: true, value: r.data };
  const first = r.error.issues[0];
  const issue = first ? deepest(first) : undefined;
  const param = issue ? formatPath(issue.path) : null;
  const missing = issue?.code === "invalid_type" && issue.received === "undefined";
  const what = missing ? "is required" : issue?.code === "invalid_union_discriminator" ? `is not supported (expected one of ${issue.options.map(String).join(", ")})` : (issue?.message ?? "is invalid");
  return { ok: false, error: errors.badRequest(`Invalid request: '${param}' ${what}.`, param, missing ? "missing_required_parameter" : "invalid_value") };
}

/**
 * A union (`input`: a string or a list of items) reports only that no branch fit; the branch that got
 * furthest names the field the client got wrong ("input[2].role" rather than "input").
 */
function deepest(issue: z.ZodIssue): z.ZodIssue {
  if (issue.code !== "invalid_union") return issue;
  let best: z.ZodIssue = issue;
  for (const e of issue.unionErrors) {
    for (const i of e.issues) {
      const d = deepest(i);
      // A branch's own issue beats the bare union at the same depth: a missing field says "is required".
      if (d.path.length > best.path.length || (best === issue && d.path.length === best.path.length)) best = d;
    }
  }
  return best;
}

function formatPath(path: (string | number)[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out ? `.${p}` : p;
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
