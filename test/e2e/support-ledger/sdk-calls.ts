// One chat call through the official openai SDK, keeping what a ledger test needs: the gateway's
// request id (to find the ledger rows), the served model and the usage exactly as the client saw it.
import type OpenAI from "openai";

export interface SeenAnswer {
  requestId: string;
  headers: Headers;
  model: string;
  text: string;
  finish: string | null;
  /** response.usage, or a stream's usage chunk; undefined when the client got none. */
  usage: OpenAI.CompletionUsage | undefined;
  /** Stream chunks that carried usage (a stream without include_usage must have none). */
  usageChunks: number;
}

export async function complete(client: OpenAI, params: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming): Promise<SeenAnswer> {
  const { data, response } = await client.chat.completions.create(params).withResponse();
  const choice = data.choices[0];
  return {
    requestId: requestIdOf(response.headers),
    headers: response.headers,
    model: data.model,
    text: choice?.message.content ?? "",
    finish: choice?.finish_reason ?? null,
    usage: data.usage,
    usageChunks: 0,
  };
}

export async function completeStream(client: OpenAI, params: OpenAI.Chat.ChatCompletionCreateParamsStreaming): Promise<SeenAnswer> {
  const { data, response } = await client.chat.completions.create(params).withResponse();
  let text = "";
  let model = "";
  let finish: string | null = null;
  let usage: OpenAI.CompletionUsage | undefined;
  let usageChunks = 0;
  for await (const chunk of data) {
    model ||= chunk.model;
    const c = chunk.choices[0];
    text += c?.delta.content ?? "";
    finish = c?.finish_reason ?? finish;
    if (chunk.usage) {
      usage = chunk.usage;
      usageChunks++;
    }
  }
  return { requestId: requestIdOf(response.headers), headers: response.headers, model, text, finish, usage, usageChunks };
}

function requestIdOf(h: Headers): string {
  const id = h.get("x-llmgw-request-id");
  if (!id) throw new Error("response has no x-llmgw-request-id");
  return id;
}
