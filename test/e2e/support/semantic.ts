// Filling the answer cache and reaching a semantic hit through the gateway, for the cache's end-to-end
// tests: a long question and its paraphrase that the shipped cache answers from one entry.
import type OpenAI from "openai";
import { expect } from "vitest";
import { ask, askUntilHit, until, user, type Answer } from "./requests.ts";

type Msgs = OpenAI.Chat.ChatCompletionMessageParam[];

/** Probes that must not leave an entry of their own behind (the lookup still runs). */
export const NO_STORE = { "cache-control": "no-store" };

// A long question reworded (can→could, make→produce): over the long-text threshold and past the
// precision guard (no number, negation or entity changed); same tier and category, so same partition.
export const ORIGINAL = "Can you explain in simple terms how green plants use sunlight, water and carbon dioxide to make their own food through photosynthesis?";
export const PARAPHRASE = "Could you explain in simple terms how green plants use sunlight, water and carbon dioxide to produce their own food through photosynthesis?";

/** Fills the cache with `messages` and returns the first (provider) answer once a repeat hits. */
export async function fill(client: OpenAI, messages: Msgs): Promise<Answer> {
  const first = await ask(client, { messages });
  expect(first.h("x-llmgw-cache")).toBe("miss");
  const hit = await askUntilHit(client, { messages }, NO_STORE);
  expect(hit?.h("x-llmgw-cache"), "the answer was never cached").toBe("hit-exact");
  return first;
}

/**
 * Asks `paraphrase` (without storing it) until the semantic layer answers it from `original`'s entry.
 * The cache's writes are best effort inside its 20 ms store budget: on a loaded machine the Redis SET
 * can overrun it, land anyway, and the vector upsert after it is skipped (exact entry, no vector). So
 * when the paraphrase keeps missing, `original` is written again (x-llmgw-cache: refresh), at most 3 times.
 */
export async function semanticHit(client: OpenAI, original: string, paraphrase: string): Promise<{ hit: Answer | undefined; rewrites: number }> {
  for (let rewrites = 0; ; rewrites++) {
    const hit = await until(async () => {
      const a = await ask(client, { messages: user(paraphrase) }, NO_STORE);
      return a.h("x-llmgw-cache") === "hit-semantic" ? a : undefined;
    }, 10);
    if (hit || rewrites === 3) return { hit, rewrites };
    await ask(client, { messages: user(original) }, { "x-llmgw-cache": "refresh" });
  }
}
