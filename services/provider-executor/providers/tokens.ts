// Prompt token counts with the process's shared o200k_base tokenizer (libs/tokens/count.ts). Counts are
// estimates for non-OpenAI tokenizers; they serve the context-window check and usage of cut streams.
import { countTokens } from "#libs/tokens/count.ts";
import type { ChatRequest } from "./types.ts";

// OpenAI's documented chat framing: ~3 tokens per message plus 3 to prime the answer.
const PER_MESSAGE = 3;
const REPLY_PRIMING = 3;
// Images are billed by tile; a flat mid-size estimate keeps the window check conservative without fetching.
const IMAGE_TOKENS = 765;

export function countPromptTokens(body: ChatRequest): number {
  let total = REPLY_PRIMING;
  for (const m of body.messages) {
    total += PER_MESSAGE;
    const content: unknown = m.content;
    if (typeof content === "string") total += countTokens(content);
    else if (Array.isArray(content)) {
      for (const part of content as unknown[]) total += countPartTokens(part);
    }
    if (m.role === "assistant" && m.tool_calls) total += countTokens(JSON.stringify(m.tool_calls));
  }
  if (body.tools && body.tools.length > 0) total += countTokens(JSON.stringify(body.tools));
  return total;
}

function countPartTokens(part: unknown): number {
  if (typeof part !== "object" || part === null) return 0;
  const p = part as { type?: unknown; text?: unknown; refusal?: unknown };
  if (p.type === "text" && typeof p.text === "string") return countTokens(p.text);
  if (p.type === "refusal" && typeof p.refusal === "string") return countTokens(p.refusal);
  if (p.type === "image_url") return IMAGE_TOKENS;
  return countTokens(JSON.stringify(part));
}
