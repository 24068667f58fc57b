// Anthropic Messages request → the chat request the pipeline runs (OpenAI-shaped, the gateway's
// internal shape). Nothing the executor's Anthropic adapter can use is lost on the way: cache_control
// rides on the parts, messages and tools it sits on (the adapter reads it back), images become data or
// https URLs (the adapter turns them back into image blocks), tool_use/tool_result become tool_calls
// and tool messages (the adapter merges consecutive tool results back into one user turn).
import type OpenAI from "openai";
import type { CacheControlParam, ContentBlock, ImageBlock, MessagesRequest, TextBlock, ToolChoiceParam, ToolParam, ToolResultBlock } from "./request-schema.ts";

type ChatParams = OpenAI.Chat.ChatCompletionCreateParams;
type ChatMessage = OpenAI.Chat.ChatCompletionMessageParam;
type UserPart = OpenAI.Chat.ChatCompletionContentPartText | OpenAI.Chat.ChatCompletionContentPartImage;

/** Anthropic-only fields the executor's Anthropic adapter forwards (OpenAI's types have no place for them). */
export interface AnthropicExtras {
  top_k?: number;
}

export function toChatRequest(req: MessagesRequest, model: string): ChatParams & AnthropicExtras {
  const messages: ChatMessage[] = [];
  if (req.system !== undefined) {
    const system = typeof req.system === "string" ? req.system : req.system.map(textPart);
    if (system.length > 0) messages.push({ role: "system", content: system });
  }
  for (const m of req.messages) {
    if (m.role === "user") messages.push(...userMessages(m.content));
    else messages.push(assistantMessage(m.content));
  }
  // A stream's final message_delta reports usage, so the pipeline's stream must carry it.
  const stream = req.stream === true ? { stream: true as const, stream_options: { include_usage: true } } : {};
  const out: ChatParams & AnthropicExtras = { model, messages, max_tokens: req.max_tokens, ...stream };
  if (req.stop_sequences && req.stop_sequences.length > 0) out.stop = req.stop_sequences;
  if (req.temperature !== undefined) out.temperature = req.temperature;
  if (req.top_p !== undefined) out.top_p = req.top_p;
  if (req.top_k !== undefined) out.top_k = req.top_k;
  if (req.metadata?.user_id) out.user = req.metadata.user_id;
  if (req.tools && req.tools.length > 0) out.tools = req.tools.map(toTool);
  if (req.tool_choice) Object.assign(out, toolChoiceOf(req.tool_choice));
  return out;
}

/** Copies a block's cache_control onto what carries it through the pipeline. */
function withCache<T extends object>(target: T, cc: CacheControlParam): T {
  if (cc) Object.assign(target, { cache_control: cc.ttl ? { type: "ephemeral", ttl: cc.ttl } : { type: "ephemeral" } });
  return target;
}

function textPart(b: TextBlock): OpenAI.Chat.ChatCompletionContentPartText {
  return withCache({ type: "text", text: b.text }, b.cache_control);
}

function imagePart(b: ImageBlock): OpenAI.Chat.ChatCompletionContentPartImage {
  const url = b.source.type === "base64" ? `data:${b.source.media_type};base64,${b.source.data}` : b.source.url;
  return withCache({ type: "image_url", image_url: { url } }, b.cache_control);
}

/**
 * One user turn → tool messages (one per tool_result, in order) and user messages for the text and
 * images around them, in the order they came.
 */
function userMessages(content: string | ContentBlock[]): ChatMessage[] {
  if (typeof content === "string") return [{ role: "user", content }];
  const out: ChatMessage[] = [];
  let parts: UserPart[] = [];
  const flush = () => {
    if (parts.length > 0) out.push({ role: "user", content: parts });
    parts = [];
  };
  for (const b of content) {
    if (b.type === "text") parts.push(textPart(b));
    else if (b.type === "image") parts.push(imagePart(b));
    else if (b.type === "tool_result") {
      flush();
      out.push(toolMessage(b));
    }
    // tool_use and thinking blocks cannot be in a user turn (the schema refuses tool_use).
  }
  flush();
  return out;
}

function toolMessage(b: ToolResultBlock): ChatMessage {
  const content = b.content === undefined ? "" : typeof b.content === "string" ? b.content : b.content.map((p) => (p.type === "text" ? textPart(p) : imagePart(p)));
  // OpenAI's tool messages take text parts only; image parts ride along for the Anthropic adapter.
  const msg = { role: "tool", tool_call_id: b.tool_use_id, content } as OpenAI.Chat.ChatCompletionToolMessageParam;
  if (b.is_error === true) Object.assign(msg, { is_error: true });
  return withCache(msg, b.cache_control);
}

function assistantMessage(content: string | ContentBlock[]): ChatMessage {
  if (typeof content === "string") return { role: "assistant", content };
  const texts: OpenAI.Chat.ChatCompletionContentPartText[] = [];
  const calls: OpenAI.Chat.ChatCompletionMessageFunctionToolCall[] = [];
  for (const b of content) {
    if (b.type === "text") texts.push(textPart(b));
    else if (b.type === "tool_use") calls.push(withCache({ id: b.id, type: "function", function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) } }, b.cache_control));
    // Thinking blocks are dropped: their signatures only verify on the model that wrote them.
  }
  const msg: OpenAI.Chat.ChatCompletionAssistantMessageParam = { role: "assistant", content: texts.some((t) => "cache_control" in t) ? texts : texts.map((t) => t.text).join("") };
  if (calls.length > 0) msg.tool_calls = calls;
  return msg;
}

function toTool(t: ToolParam): OpenAI.Chat.ChatCompletionFunctionTool {
  const { type: _type, ...schema } = t.input_schema;
  const fn: OpenAI.FunctionDefinition = { name: t.name, parameters: { type: "object", ...schema } };
  if (t.description !== undefined) fn.description = t.description;
  return withCache({ type: "function", function: fn }, t.cache_control);
}

function toolChoiceOf(c: ToolChoiceParam): Pick<ChatParams, "tool_choice" | "parallel_tool_calls"> {
  const parallel = "disable_parallel_tool_use" in c && c.disable_parallel_tool_use === true ? { parallel_tool_calls: false } : {};
  switch (c.type) {
    case "auto":
      return { tool_choice: "auto", ...parallel };
    case "any":
      return { tool_choice: "required", ...parallel };
    case "tool":
      return { tool_choice: { type: "function", function: { name: c.name } }, ...parallel };
    case "none":
      return { tool_choice: "none" };
  }
}
