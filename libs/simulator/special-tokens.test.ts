// Issue #11: a prompt containing a special token's text ("<|endoftext|>") is ordinary text to the providers,
// so the simulator answers it; it used to throw in the tokenizer and answer 500 (the soak's 502s).
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sharedEncoder } from "#libs/tokens/count.ts";
import { startSimulator, type Simulator } from "./server.ts";
import { countTokens } from "./tokens.ts";

let sim: Simulator;
let openai: OpenAI;
let anthropic: Anthropic;

beforeAll(async () => {
  sim = await startSimulator({ port: 0 });
  openai = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: "x", maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: sim.url, apiKey: "x", maxRetries: 0 });
});
afterAll(async () => {
  await sim.close();
});

// Short, a long run of non-space characters (the sliced path, 256+), and every o200k special token.
const PROMPTS = ["say <|endoftext|> twice", "<|endoftext|>".repeat(40), "<|endoftext|> <|endofprompt|> x"];

describe("special tokens' text in prompts", () => {
  it("counts as ordinary text", () => {
    expect(countTokens("<|endoftext|>")).toBe(sharedEncoder().encodeOrdinary("<|endoftext|>").length);
    expect(countTokens("<|endoftext|>")).toBeGreaterThan(1);
  });

  it.each(PROMPTS)("OpenAI chat answers %#, streamed and not", async (content) => {
    const res = await openai.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content }], max_tokens: 16 });
    expect(res.choices[0]?.message.content).toBeTruthy();
    expect(res.usage?.prompt_tokens).toBeGreaterThan(countTokens(content));
    const stream = await openai.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content }], max_tokens: 16, stream: true });
    let text = "";
    for await (const c of stream) text += c.choices[0]?.delta.content ?? "";
    expect(text).toBe(res.choices[0]?.message.content);
  });

  it.each(PROMPTS)("Anthropic messages answers %#", async (content) => {
    const res = await anthropic.messages.create({ model: "claude-3-5-haiku-latest", messages: [{ role: "user", content }], max_tokens: 16 });
    expect(res.content[0]?.type).toBe("text");
    expect(res.usage.input_tokens).toBeGreaterThanOrEqual(countTokens(content));
  });

  it("embeddings answer", async () => {
    const res = await openai.embeddings.create({ model: "text-embedding-3-small", input: PROMPTS });
    expect(res.data).toHaveLength(PROMPTS.length);
  });
});
