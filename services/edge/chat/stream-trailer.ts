// The stream's cost in its last chunk: chunks from the first that ends a choice (finish_reason set)
// or carries usage alone are held back until the run is over, then the last of them gets an `llmgw`
// field with what the gateway knows (cost, baseline, savings, model, tier, cache). Tokens before the
// end are never delayed. OpenAI SDKs keep unknown chunk fields, so normal parsing is unaffected.
import type { GatewayInfo } from "./gateway-info.ts";

/** True for a chunk that ends a choice or is the usage-only chunk: what follows is bookkeeping. */
export function isTerminalChunk(json: string): boolean {
  // Chunks are compact JSON from JSON.stringify: a null finish_reason is `"finish_reason":null`.
  return /"finish_reason":"/.test(json) || json.includes('"choices":[]');
}

/** Adds `llmgw` to one chunk's JSON. */
export function withGatewayField(json: string, info: GatewayInfo): string {
  const chunk = JSON.parse(json) as Record<string, unknown>;
  return JSON.stringify({ ...chunk, llmgw: info });
}

/**
 * Forwards `chunks`, holding the terminal ones; then `end()` says how the run ended: with info, the
 * held chunks go out with the last one carrying it; with an error (a failure after the first token),
 * the held chunks and then the error's JSON.
 */
export async function* withTrailer(chunks: AsyncIterable<string>, end: () => Promise<{ info?: GatewayInfo; errorJson?: string }>): AsyncGenerator<string> {
  const held: string[] = [];
  for await (const c of chunks) {
    if (held.length > 0 || isTerminalChunk(c)) held.push(c);
    else yield c;
  }
  const { info, errorJson } = await end();
  const last = held.pop();
  yield* held;
  if (errorJson !== undefined) {
    if (last !== undefined) yield last;
    yield errorJson;
    return;
  }
  if (!info) {
    if (last !== undefined) yield last;
    return;
  }
  // A stream cut before any terminal chunk still ends with one: a chunk with no choices, like the usage chunk.
  yield last !== undefined ? withGatewayField(last, info) : JSON.stringify({ id: `chatcmpl-${info.request_id}`, object: "chat.completion.chunk", created: Math.floor(Date.now() / 1000), model: info.model, choices: [], llmgw: info });
}
