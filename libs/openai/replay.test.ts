import { describe, expect, it } from "vitest";
import type OpenAI from "openai";
import { completionToChunks, splitWords } from "./replay.ts";

const completion: OpenAI.Chat.ChatCompletion = {
  id: "chatcmpl-1",
  object: "chat.completion",
  created: 1,
  model: "gpt-4o-mini",
  choices: [{ index: 0, finish_reason: "stop", logprobs: null, message: { role: "assistant", content: "Paris is the capital.", refusal: null } }],
  usage: { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 },
};

describe("completionToChunks", () => {
  it("reassembles to the same content and ends with finish and usage", () => {
    const chunks = completionToChunks(completion, { includeUsage: true });
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
    expect(text).toBe("Paris is the capital.");
    expect(chunks[0]?.choices[0]?.delta.role).toBe("assistant");
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe("stop");
    expect(chunks.at(-1)?.choices).toEqual([]);
    expect(chunks.at(-1)?.usage?.total_tokens).toBe(10);
  });

  it("omits usage unless asked", () => {
    expect(completionToChunks(completion, { includeUsage: false }).every((c) => c.usage === undefined)).toBe(true);
  });

  it("splits words losslessly", () => {
    expect(splitWords("a  b\nc").join("")).toBe("a  b\nc");
    expect(splitWords("")).toEqual([]);
  });
});
