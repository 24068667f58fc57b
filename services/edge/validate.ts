// Validates the OpenAI chat completion body at the edge. Errors name the offending field (OpenAI's
// `param`), so a client sees "messages[1].role" rather than a 500 three hops later.
// Unknown fields pass through untouched: providers add parameters faster than gateways do.
import { z } from "zod";
import type OpenAI from "openai";
import { errors, type GatewayError } from "#libs/errors/openai-error.ts";

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

export const chatRequestSchema = z
  .object({
    model: z.string().min(1),
    messages: z.array(message).min(1),
    stream: z.boolean().optional(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).passthrough().nullable().optional(),
    max_tokens: z.number().int().positive().nullable().optional(),
    max_completion_tokens: z.number().int().positive().nullable().optional(),
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
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return { ok: false, error: errors.badRequest("Request body must be a JSON object.") };
  }
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
