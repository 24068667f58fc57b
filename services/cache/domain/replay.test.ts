import { describe, expect, it } from "vitest";
import { replayAsChunks, splitWords } from "./replay.ts";

const completion = {
  id: "chatcmpl-1",
  object: "chat.completion",
  created: 1700000000,
  model: "gpt-4o-mini",
  choices: [{ index: 0, message: { role: "assistant", content: "Paris is the capital.", refusal: null }, finish_reason: "stop", logprobs: null }],
  usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
};

describe("replayAsChunks", () => {
  it("emits role, word chunks that rebuild the text, finish and optional zero usage", () => {
    const chunks = replayAsChunks(JSON.stringify(completion), { includeUsage: true });
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: "assistant", content: "" });
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
    expect(text).toBe("Paris is the capital.");
    expect(chunks.filter((c) => c.choices[0]?.delta.content).length).toBe(4);
    const finish = chunks[chunks.length - 2];
    expect(finish?.choices[0]?.finish_reason).toBe("stop");
    const usage = chunks[chunks.length - 1];
    expect(usage?.choices).toEqual([]);
    expect(usage?.usage).toEqual({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
    for (const c of chunks) {
      expect(c.object).toBe("chat.completion.chunk");
      expect(c.id).toBe("chatcmpl-1");
      expect(c.model).toBe("gpt-4o-mini");
    }
  });

  it("without usage ends with the finish chunk; empty content still has role and finish", () => {
    const empty = { ...completion, choices: [{ ...completion.choices[0], message: { role: "assistant", content: null } }] };
    const chunks = replayAsChunks(JSON.stringify(empty));
    expect(chunks).toHaveLength(2);
    expect(chunks[1]?.choices[0]?.finish_reason).toBe("stop");
  });

  it("splits at word boundaries keeping whitespace", () => {
    expect(splitWords("a  b\nc")).toEqual(["a  ", "b\n", "c"]);
  });
});
