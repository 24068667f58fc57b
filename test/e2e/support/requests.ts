// Small request helpers shared by the routing and cache end-to-end tests: one chat call through the
// official openai SDK that returns the answer with its x-llmgw-* headers, unique prompts, and a
// bounded poll for effects that happen after the answer (cache writes, breaker health polls).
import { randomBytes } from "node:crypto";
import OpenAI from "openai";

export interface Answer {
  data: OpenAI.Chat.ChatCompletion;
  headers: Headers;
  /** A response header, "" when absent. */
  h(name: string): string;
  content: string;
}

export function sdkClient(url: string, apiKey: string): OpenAI {
  return new OpenAI({ baseURL: `${url}/v1`, apiKey, maxRetries: 0, timeout: 20_000 });
}

/** One non-streaming completion with model "auto" (unless the body says otherwise). */
export async function ask(
  client: OpenAI,
  body: Partial<OpenAI.Chat.ChatCompletionCreateParamsNonStreaming> & { messages: OpenAI.Chat.ChatCompletionMessageParam[] },
  headers: Record<string, string> = {},
): Promise<Answer> {
  const { data, response } = await client.chat.completions.create({ model: "auto", ...body, stream: false }, { headers }).withResponse();
  return { data, headers: response.headers, h: (n) => response.headers.get(n) ?? "", content: data.choices[0]?.message.content ?? "" };
}

export const user = (content: string): OpenAI.Chat.ChatCompletionMessageParam[] => [{ role: "user", content }];

/**
 * A prompt no earlier request sent, so no cache can answer it. The tag is consonants only: digits would
 * move the classifier's number feature (and a tier) at random, and vowels could spell a keyword.
 */
export const fresh = (text: string): string => `${text} (ref ${tag()})`;

const CONSONANTS = "bcdfghjklmnpqrstvwxz";
function tag(): string {
  return [...randomBytes(10)].map((b) => CONSONANTS[b % CONSONANTS.length]).join("");
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `attempt` until it returns a value (not undefined), at most `tries` times `everyMs` apart;
 * returns the last value or undefined. Bounded so a broken feature fails the test instead of hanging it.
 */
export async function until<T>(attempt: () => Promise<T | undefined>, tries = 40, everyMs = 50): Promise<T | undefined> {
  for (let i = 0; i < tries; i++) {
    if (i > 0) await sleep(everyMs);
    const v = await attempt();
    if (v !== undefined) return v;
  }
  return undefined;
}

/** Asks the same request until it is answered from the cache (the write happens after the first answer). */
export async function askUntilHit(client: OpenAI, body: Parameters<typeof ask>[1], headers: Record<string, string> = {}): Promise<Answer | undefined> {
  return until(async () => {
    const a = await ask(client, body, headers);
    return a.h("x-llmgw-cache").startsWith("hit") ? a : undefined;
  });
}

/** Requests the simulator saw for one model. */
export const seen = (stats: { byModel: Record<string, number> }, model: string): number => stats.byModel[model] ?? 0;
