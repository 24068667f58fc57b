// What the mesh needs to know about a chat request, read once at the edge.
import type OpenAI from "openai";
import type { ChatMessage } from "#libs/gen/llmgw/common/v1/common_pb.ts";

type Msg = OpenAI.Chat.ChatCompletionMessageParam;

export interface RequestFacts {
  /** Whole messages: requests that carry them take them as they are. */
  messages: ChatMessage[];
  texts: string[];
  hasTools: boolean;
  jsonMode: boolean;
  hasImages: boolean;
  /** The output limit for worst-case costs: the client's, else the model's default. */
  maxTokens: number;
  /** The output limit the client set (max_completion_tokens or max_tokens), 0 when none: what must fit a model. */
  askedMaxTokens: number;
  capabilities: string[];
}

export function textOf(content: Msg["content"]): { text: string; images: boolean } {
  if (content === null || content === undefined) return { text: "", images: false };
  if (typeof content === "string") return { text: content, images: false };
  let text = "";
  let images = false;
  for (const part of content) {
    if (part.type === "text") text += (text ? "\n" : "") + part.text;
    else if (part.type === "image_url") images = true;
  }
  return { text, images };
}

export function requestFacts(req: OpenAI.Chat.ChatCompletionCreateParams, defaultMaxTokens: number): RequestFacts {
  const messages: RequestFacts["messages"] = [];
  const texts: string[] = [];
  let hasImages = false;
  let assistantToolCalls = false;
  for (const m of req.messages) {
    const { text, images } = textOf(m.content as Msg["content"]);
    hasImages ||= images;
    let full = text;
    if (m.role === "assistant" && m.tool_calls?.length) {
      assistantToolCalls = true;
      // Tool call arguments count toward the prompt and make the turn distinct for the cache.
      full += m.tool_calls.map((c) => (c.type === "function" ? `\n[tool_call ${c.function.name} ${c.function.arguments}]` : "")).join("");
    }
    texts.push(full);
    // Whole ChatMessage messages: the classify request and the cache key take them without a create() each.
    messages.push({
      $typeName: "llmgw.common.v1.ChatMessage",
      role: m.role,
      content: full,
      name: "name" in m && typeof m.name === "string" ? m.name : "",
      toolCallId: m.role === "tool" ? m.tool_call_id : "",
    });
  }
  const hasTools = (req.tools?.length ?? 0) > 0 || assistantToolCalls || req.messages.some((m) => m.role === "tool");
  const jsonMode = req.response_format?.type === "json_object" || req.response_format?.type === "json_schema";
  const askedMaxTokens = req.max_completion_tokens ?? req.max_tokens ?? 0;
  const maxTokens = askedMaxTokens || defaultMaxTokens;
  const capabilities: string[] = [];
  if (hasTools) capabilities.push("tools");
  if (jsonMode) capabilities.push("json_mode");
  if (hasImages) capabilities.push("vision");
  if (req.stream) capabilities.push("streaming");
  if (req.reasoning_effort != null) capabilities.push("reasoning");
  return { messages, texts, hasTools, jsonMode, hasImages, maxTokens, askedMaxTokens, capabilities };
}
