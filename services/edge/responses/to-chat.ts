// Responses API request (and the stored turns before it) → the chat completion request the one
// pipeline runs. Instructions become the first system message (they are not carried over from
// earlier turns, as in OpenAI's API); items become messages; function tools, tool_choice and
// text.format map onto their chat equivalents.
import type OpenAI from "openai";
import { errors } from "#libs/errors/openai-error.ts";
import type { ContentPart, InputItem, ResponsesRequest } from "./request-schema.ts";

type ChatMessage = OpenAI.Chat.ChatCompletionMessageParam;
type ChatParams = OpenAI.Chat.ChatCompletionCreateParams;
type ChatPart = OpenAI.Chat.ChatCompletionContentPart;

/** The request's own input as items (a string is one user message). */
export function inputItemsOf(input: ResponsesRequest["input"]): InputItem[] {
  return typeof input === "string" ? [{ type: "message", role: "user", content: input }] : input;
}

/** Conversation items → chat messages. Consecutive function calls are one assistant turn with tool_calls. */
export function itemsToMessages(items: readonly InputItem[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (const item of items) {
    switch (item.type) {
      case "message":
        out.push(messageOf(item.role, item.content));
        break;
      case "function_call": {
        const call: OpenAI.Chat.ChatCompletionMessageToolCall = { id: item.call_id, type: "function", function: { name: item.name, arguments: item.arguments } };
        const last = out.at(-1);
        if (last?.role === "assistant") last.tool_calls = [...(last.tool_calls ?? []), call];
        else out.push({ role: "assistant", content: null, tool_calls: [call] });
        break;
      }
      case "function_call_output":
        out.push({ role: "tool", tool_call_id: item.call_id, content: typeof item.output === "string" ? item.output : textOf(item.output) });
        break;
      case "reasoning":
        break;
      case "item_reference":
        // Resolved against stored responses before translation; one left here names nothing we keep.
        throw errors.badRequest(`Item with id '${item.id}' not found.`, "input", "item_not_found");
    }
  }
  return out;
}

function messageOf(role: "user" | "assistant" | "system" | "developer", content: string | ContentPart[]): ChatMessage {
  if (role === "assistant") return { role, content: typeof content === "string" ? content : textOf(content) };
  if (role === "system" || role === "developer") return { role, content: typeof content === "string" ? content : textOf(content) };
  if (typeof content === "string") return { role, content };
  const parts: ChatPart[] = content.map((p): ChatPart => {
    if (p.type === "input_image") return { type: "image_url", image_url: { url: p.image_url ?? "", ...(p.detail && p.detail !== "original" ? { detail: p.detail } : {}) } };
    return { type: "text", text: p.type === "refusal" ? p.refusal : p.text };
  });
  return { role, content: parts };
}

function textOf(parts: readonly ContentPart[]): string {
  return parts.map((p) => (p.type === "refusal" ? p.refusal : p.type === "input_image" ? "" : p.text)).join("");
}

/** The chat request for this turn: `messages` is the whole conversation; `model` may be pinned by the caller. */
export function toChatRequest(req: ResponsesRequest, conversation: ChatMessage[], model: string): ChatParams {
  const messages: ChatMessage[] = req.instructions ? [{ role: "system", content: req.instructions }, ...conversation] : conversation;
  const body: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming = { model, messages };
  if (req.tools?.length) {
    body.tools = req.tools.map((t) => ({
      type: "function",
      function: { name: t.name, ...(t.description ? { description: t.description } : {}), ...(t.parameters ? { parameters: t.parameters } : {}), ...(typeof t.strict === "boolean" ? { strict: t.strict } : {}) },
    }));
  }
  if (req.tool_choice !== undefined) body.tool_choice = typeof req.tool_choice === "string" ? req.tool_choice : { type: "function", function: { name: req.tool_choice.name } };
  if (typeof req.parallel_tool_calls === "boolean" && req.tools?.length) body.parallel_tool_calls = req.parallel_tool_calls;
  const format = req.text?.format;
  if (format?.type === "json_object") body.response_format = { type: "json_object" };
  if (format?.type === "json_schema") {
    body.response_format = {
      type: "json_schema",
      json_schema: { name: format.name, schema: format.schema, ...(format.description ? { description: format.description } : {}), ...(typeof format.strict === "boolean" ? { strict: format.strict } : {}) },
    };
  }
  if (typeof req.max_output_tokens === "number") body.max_completion_tokens = req.max_output_tokens;
  if (typeof req.temperature === "number") body.temperature = req.temperature;
  if (typeof req.top_p === "number") body.top_p = req.top_p;
  if (req.reasoning?.effort) body.reasoning_effort = req.reasoning.effort;
  if (req.user) body.user = req.user;
  // The final event carries usage (and the gateway's cost), so the pipeline must hand it over.
  return req.stream === true ? { ...body, stream: true, stream_options: { include_usage: true } } : body;
}
