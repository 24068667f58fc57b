// Usage for streams the provider never finished reporting: count what we saw with the tokenizer.
import { countTokens } from "#libs/tokens/count.ts";
import type { ChatChunk, Usage } from "../providers/types.ts";
import { ZERO_USAGE } from "../providers/types.ts";

/** Accumulates the visible output of a stream (content, refusal, tool-call names and arguments). */
export class OutputText {
  private parts: string[] = [];

  add(chunk: ChatChunk): void {
    for (const c of chunk.choices) {
      const d = c.delta;
      if (d.content) this.parts.push(d.content);
      if (d.refusal) this.parts.push(d.refusal);
      for (const tc of d.tool_calls ?? []) {
        if (tc.function?.name) this.parts.push(tc.function.name);
        if (tc.function?.arguments) this.parts.push(tc.function.arguments);
      }
    }
  }

  tokens(): number {
    return countTokens(this.parts.join(""));
  }
}

/**
 * Provider counts when complete; otherwise keep what the provider did report for the input side and
 * count the output ourselves, flagged as estimated.
 */
export function streamUsage(reported: { usage: Usage; complete: boolean } | null, promptTokens: () => number, output: OutputText): Usage {
  if (reported?.complete) return reported.usage;
  const base: Usage = reported ? reported.usage : { ...ZERO_USAGE, inputTokens: promptTokens() };
  return { ...base, outputTokens: Math.max(base.outputTokens, output.tokens()), reasoningTokens: base.reasoningTokens, estimated: true };
}
