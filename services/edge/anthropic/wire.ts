// The Anthropic Messages response shapes the edge writes (the subset of the API's fields that a
// gateway in front of several providers can fill truthfully), plus the gateway's extension field.
import type { GatewayInfo } from "../chat/gateway-info.ts";

export type StopReason = "end_turn" | "max_tokens" | "stop_sequence" | "tool_use" | "refusal";

export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

export type ResponseBlock = { type: "text"; text: string } | { type: "tool_use"; id: string; name: string; input: unknown };

export interface AnthropicMessage {
  id: string;
  type: "message";
  role: "assistant";
  model: string;
  content: ResponseBlock[];
  stop_reason: StopReason | null;
  stop_sequence: string | null;
  usage: AnthropicUsage;
}

export type StreamEvent =
  | { type: "message_start"; message: AnthropicMessage }
  | { type: "content_block_start"; index: number; content_block: { type: "text"; text: "" } | { type: "tool_use"; id: string; name: string; input: Record<string, never> } }
  | { type: "ping" }
  | { type: "content_block_delta"; index: number; delta: { type: "text_delta"; text: string } | { type: "input_json_delta"; partial_json: string } }
  | { type: "content_block_stop"; index: number }
  | { type: "message_delta"; delta: { stop_reason: StopReason | null; stop_sequence: string | null }; usage: AnthropicUsage; llmgw?: GatewayInfo }
  | { type: "message_stop" }
  | { type: "error"; error: { type: string; message: string } };
