import type { ChatCompletion, ChatCompletionChunk } from "openai/resources/chat/completions";

export interface ReplayOptions {
  /** Append a usage chunk (as with stream_options.include_usage); usage is zero because a hit costs nothing. */
  includeUsage?: boolean;
  /** Id for the replayed stream; defaults to the cached completion's id. */
  id?: string;
  created?: number;
}

/** Splits text at word boundaries, keeping whitespace with the preceding word, like a live token stream. */
export function splitWords(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

/** Turns a cached chat.completion into the chunks a live stream would have produced. */
export function replayAsChunks(completionJson: string, options: ReplayOptions = {}): ChatCompletionChunk[] {
  const completion = JSON.parse(completionJson) as ChatCompletion;
  const id = options.id ?? completion.id;
  const created = options.created ?? completion.created;
  const base = { id, created, model: completion.model, object: "chat.completion.chunk" as const };
  const chunks: ChatCompletionChunk[] = [];
  for (const choice of completion.choices) {
    const index = choice.index;
    chunks.push({ ...base, choices: [{ index, delta: { role: "assistant", content: "" }, finish_reason: null, logprobs: null }] });
    const content = choice.message.content ?? "";
    for (const piece of splitWords(content)) {
      chunks.push({ ...base, choices: [{ index, delta: { content: piece }, finish_reason: null, logprobs: null }] });
    }
    if (choice.message.refusal) {
      chunks.push({ ...base, choices: [{ index, delta: { refusal: choice.message.refusal }, finish_reason: null, logprobs: null }] });
    }
    chunks.push({ ...base, choices: [{ index, delta: {}, finish_reason: choice.finish_reason, logprobs: null }] });
  }
  if (options.includeUsage) {
    chunks.push({ ...base, choices: [], usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 } });
  }
  return chunks;
}
