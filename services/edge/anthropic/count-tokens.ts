// POST /v1/messages/count_tokens: the prompt's tokens by the project's tokenizer (libs/tokens, o200k),
// over what the model reads: system, every message's text, tool calls and results, tool definitions.
// Claude's own tokenizer is not public, so this is the gateway's estimate, the same one routing and
// budgets use, not Anthropic's exact count.
import { countPromptTokens } from "#libs/tokens/count.ts";
import type { ContentBlock, CountTokensRequest } from "./request-schema.ts";

/**
 * Images are not decoded: each counts as Anthropic's documented maximum for an image that is not
 * downscaled (about 1,600 tokens for 1.15 megapixels), an upper bound.
 */
export const IMAGE_TOKENS = 1600;

export function countRequestTokens(req: CountTokensRequest): number {
  const texts: string[] = [];
  let images = 0;
  if (typeof req.system === "string") texts.push(req.system);
  else if (req.system) texts.push(req.system.map((b) => b.text).join("\n"));
  for (const m of req.messages) {
    if (typeof m.content === "string") {
      texts.push(m.content);
      continue;
    }
    const parts: string[] = [];
    for (const b of m.content) images += blockText(b, parts);
    texts.push(parts.join("\n"));
  }
  for (const t of req.tools ?? []) texts.push(JSON.stringify({ name: t.name, description: t.description ?? "", input_schema: t.input_schema }));
  // Exact (tokenized) whatever the size: this route is asked for a count, not a bound.
  return countPromptTokens(texts, 0).tokens + images * IMAGE_TOKENS;
}

/** Appends a block's text; returns how many images it holds. */
function blockText(b: ContentBlock, out: string[]): number {
  switch (b.type) {
    case "text":
      out.push(b.text);
      return 0;
    case "image":
      return 1;
    case "tool_use":
      out.push(`${b.name} ${JSON.stringify(b.input ?? {})}`);
      return 0;
    case "tool_result": {
      if (typeof b.content === "string") {
        out.push(b.content);
        return 0;
      }
      let images = 0;
      for (const p of b.content ?? []) {
        if (p.type === "text") out.push(p.text);
        else images++;
      }
      return images;
    }
    default:
      // Thinking blocks from earlier turns are not sent to the model (to-chat.ts drops them).
      return 0;
  }
}
