// OpenAI chat request → Anthropic Messages request (pure). Unsupported inputs become 400s with the
// offending parameter named, never silently dropped content.
import type Anthropic from "@anthropic-ai/sdk";
import type OpenAI from "openai";
import { errors } from "#libs/errors/openai-error.ts";
import type { ChatRequest } from "./types.ts";

type A = {
  Params: Anthropic.Messages.MessageCreateParamsNonStreaming;
  Block: Anthropic.Messages.ContentBlockParam;
  Text: Anthropic.Messages.TextBlockParam;
  Image: Anthropic.Messages.ImageBlockParam;
  ToolResult: Anthropic.Messages.ToolResultBlockParam;
  Tool: Anthropic.Messages.Tool;
  ToolChoice: Anthropic.Messages.ToolChoice;
  Cache: Anthropic.Messages.CacheControlEphemeral;
};

/**
 * The SDK's params lack the sampling fields in this version, but the Messages API accepts them;
 * extra keys are sent as-is in the JSON body.
 */
export type AnthropicRequest = A["Params"] & { temperature?: number; top_p?: number; top_k?: number };

type Turn = { role: "user" | "assistant"; content: A["Block"][] };

export function toAnthropicRequest(body: ChatRequest, upstreamModel: string, defaultMaxTokens: number): AnthropicRequest {
  const system: A["Text"][] = [];
  const turns: Turn[] = [];
  const push = (role: Turn["role"], blocks: A["Block"][]) => {
    if (blocks.length === 0) return;
    const last = turns[turns.length - 1];
    // Anthropic wants alternating turns: consecutive same-role messages (e.g. several tool results) merge.
    if (last && last.role === role) last.content.push(...blocks);
    else turns.push({ role, content: [...blocks] });
  };

  body.messages.forEach((m, i) => {
    switch (m.role) {
      case "system":
      case "developer":
        system.push(...textBlocks(m.content, cacheControlOf(m), `messages[${i}].content`));
        break;
      case "user":
        push("user", userBlocks(m.content, cacheControlOf(m), i));
        break;
      case "assistant":
        push("assistant", assistantBlocks(m, i));
        break;
      case "tool": {
        const result: A["ToolResult"] = { type: "tool_result", tool_use_id: m.tool_call_id, content: toolResultContent(m.content, i) };
        // Anthropic-only fields a client of the gateway's Messages API sent (services/edge/anthropic/to-chat.ts).
        if ((m as { is_error?: unknown }).is_error === true) result.is_error = true;
        const cc = cacheControlOf(m);
        if (cc) result.cache_control = cc;
        push("user", [result]);
        break;
      }
      case "function":
        throw errors.badRequest("Deprecated 'function' role messages are not supported for this model; use 'tool'.", `messages[${i}].role`);
    }
  });

  const out: AnthropicRequest = {
    model: upstreamModel,
    max_tokens: body.max_completion_tokens ?? body.max_tokens ?? defaultMaxTokens,
    messages: turns,
  };
  if (system.length > 0) out.system = system.every((b) => !b.cache_control) ? system.map((b) => b.text).join("\n\n") : system;
  if (body.stop != null) out.stop_sequences = Array.isArray(body.stop) ? body.stop : [body.stop];
  // OpenAI's range is 0..2, Anthropic's 0..1.
  if (body.temperature != null) out.temperature = Math.min(1, Math.max(0, body.temperature));
  if (body.top_p != null) out.top_p = body.top_p;
  const topK: unknown = (body as { top_k?: unknown }).top_k;
  if (typeof topK === "number") out.top_k = topK;
  if (body.user) out.metadata = { user_id: body.user };
  if (body.tools && body.tools.length > 0) {
    out.tools = body.tools.map(toTool);
    const choice = toToolChoice(body.tool_choice, body.parallel_tool_calls);
    if (choice) out.tool_choice = choice;
  }
  return out;
}

/** OpenAI has no cache_control; clients that want Anthropic prompt caching put it on parts or messages. */
function cacheControlOf(x: object): A["Cache"] | undefined {
  const cc: unknown = (x as { cache_control?: unknown }).cache_control;
  if (typeof cc !== "object" || cc === null || (cc as { type?: unknown }).type !== "ephemeral") return undefined;
  const ttl: unknown = (cc as { ttl?: unknown }).ttl;
  return ttl === "5m" || ttl === "1h" ? { type: "ephemeral", ttl } : { type: "ephemeral" };
}

function textBlocks(content: string | Array<{ type: "text"; text: string }>, messageCache: A["Cache"] | undefined, param: string): A["Text"][] {
  const blocks: A["Text"][] =
    typeof content === "string"
      ? [{ type: "text", text: content }]
      : content.map((p) => {
          if (p.type !== "text") throw errors.badRequest(`Only text parts are allowed here.`, param);
          const b: A["Text"] = { type: "text", text: p.text };
          const cc = cacheControlOf(p);
          if (cc) b.cache_control = cc;
          return b;
        });
  const last = blocks[blocks.length - 1];
  if (messageCache && last) last.cache_control = messageCache;
  return blocks.filter((b) => b.text.length > 0 || b.cache_control);
}

function userBlocks(content: OpenAI.Chat.ChatCompletionUserMessageParam["content"], messageCache: A["Cache"] | undefined, i: number): A["Block"][] {
  if (typeof content === "string") return textBlocks(content, messageCache, `messages[${i}].content`);
  const blocks: A["Block"][] = content.map((p, j) => {
    const param = `messages[${i}].content[${j}]`;
    let b: A["Text"] | A["Image"];
    if (p.type === "text") b = { type: "text", text: p.text };
    else if (p.type === "image_url") b = { type: "image", source: imageSource(p.image_url.url, param) };
    else throw errors.badRequest(`Content part type '${p.type}' is not supported for this model.`, param);
    const cc = cacheControlOf(p);
    if (cc) b.cache_control = cc;
    return b;
  });
  const last = blocks[blocks.length - 1];
  if (messageCache && last && (last.type === "text" || last.type === "image")) last.cache_control = messageCache;
  return blocks;
}

const DATA_URL_RE = /^data:(image\/(?:jpeg|png|gif|webp));base64,(.*)$/s;

function imageSource(url: string, param: string): A["Image"]["source"] {
  const m = DATA_URL_RE.exec(url);
  if (m) {
    const mediaType = m[1] as "image/jpeg" | "image/png" | "image/gif" | "image/webp";
    return { type: "base64", media_type: mediaType, data: m[2] ?? "" };
  }
  if (url.startsWith("data:")) throw errors.badRequest("Image data URLs must be base64 jpeg, png, gif or webp.", param);
  return { type: "url", url };
}

/**
 * A tool message's content: text as one string, as before; with images (a tool that returns a
 * screenshot, sent through the gateway's Messages API) as text and image blocks in order.
 */
function toolResultContent(content: OpenAI.Chat.ChatCompletionToolMessageParam["content"], i: number): string | Array<A["Text"] | A["Image"]> {
  if (typeof content === "string") return content;
  const parts = content as Array<OpenAI.Chat.ChatCompletionContentPartText | OpenAI.Chat.ChatCompletionContentPartImage>;
  if (parts.every((p) => p.type === "text")) return parts.map((p) => (p.type === "text" ? p.text : "")).join("");
  return parts.map((p, j) => {
    const b: A["Text"] | A["Image"] = p.type === "text" ? { type: "text", text: p.text } : { type: "image", source: imageSource(p.image_url.url, `messages[${i}].content[${j}]`) };
    const cc = cacheControlOf(p);
    if (cc) b.cache_control = cc;
    return b;
  });
}

function assistantBlocks(m: OpenAI.Chat.ChatCompletionAssistantMessageParam, i: number): A["Block"][] {
  const blocks: A["Block"][] = [];
  if (typeof m.content === "string") {
    if (m.content.length > 0) blocks.push({ type: "text", text: m.content });
  } else if (Array.isArray(m.content)) {
    for (const p of m.content) {
      const text = p.type === "text" ? p.text : p.refusal;
      const cc = cacheControlOf(p);
      if (text.length > 0) blocks.push(cc ? { type: "text", text, cache_control: cc } : { type: "text", text });
    }
  }
  (m.tool_calls ?? []).forEach((tc, j) => {
    if (tc.type !== "function") throw errors.badRequest("Custom tool calls are not supported for this model.", `messages[${i}].tool_calls[${j}]`);
    const block: Anthropic.Messages.ToolUseBlockParam = { type: "tool_use", id: tc.id, name: tc.function.name, input: parseArguments(tc.function.arguments, `messages[${i}].tool_calls[${j}].function.arguments`) };
    // A breakpoint on a tool call (sent through the gateway's Messages API) stays on its tool_use block.
    const cc = cacheControlOf(tc);
    if (cc) block.cache_control = cc;
    blocks.push(block);
  });
  return blocks;
}

function parseArguments(args: string, param: string): unknown {
  if (args.trim() === "") return {};
  try {
    return JSON.parse(args) as unknown;
  } catch {
    throw errors.badRequest("Tool call arguments must be valid JSON.", param);
  }
}

function toTool(t: OpenAI.Chat.ChatCompletionTool, i: number): A["Tool"] {
  if (t.type !== "function") throw errors.badRequest("Custom tools are not supported for this model.", `tools[${i}]`);
  const params = t.function.parameters;
  const schema: A["Tool"]["input_schema"] =
    params && params.type === "object" ? { ...params, type: "object" } : { type: "object", properties: params?.properties ?? {} };
  const tool: A["Tool"] = { name: t.function.name, input_schema: schema };
  if (t.function.description) tool.description = t.function.description;
  const cc = cacheControlOf(t);
  if (cc) tool.cache_control = cc;
  return tool;
}

export function toToolChoice(
  choice: OpenAI.Chat.ChatCompletionToolChoiceOption | undefined,
  parallel: boolean | undefined,
): A["ToolChoice"] | undefined {
  const disable = parallel === false ? { disable_parallel_tool_use: true } : {};
  if (choice === undefined) return parallel === false ? { type: "auto", ...disable } : undefined;
  if (choice === "none") return { type: "none" };
  if (choice === "auto") return { type: "auto", ...disable };
  if (choice === "required") return { type: "any", ...disable };
  if (choice.type === "function") return { type: "tool", name: choice.function.name, ...disable };
  if (choice.type === "allowed_tools") return { type: choice.allowed_tools.mode === "required" ? "any" : "auto", ...disable };
  throw errors.badRequest("Custom tool choice is not supported for this model.", "tool_choice");
}
