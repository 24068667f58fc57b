import { describe, expect, it } from "vitest";
import { countTokens } from "#libs/tokens/count.ts";
import { countRequestTokens, IMAGE_TOKENS } from "./count-tokens.ts";
import { validateCountTokensRequest, type CountTokensRequest } from "./request-schema.ts";

function req(body: unknown): CountTokensRequest {
  const v = validateCountTokensRequest(body);
  if (!v.ok) throw v.error;
  return v.value;
}

describe("countRequestTokens", () => {
  it("counts the text with the gateway's tokenizer plus the per-message framing", () => {
    const n = countRequestTokens(req({ model: "m", messages: [{ role: "user", content: "The quick brown fox jumps over the lazy dog." }] }));
    // One message: 4 framing tokens + 3 for the reply primer (libs/tokens countPromptTokens).
    expect(n).toBe(countTokens("The quick brown fox jumps over the lazy dog.") + 4 + 3);
  });

  it("grows with the system prompt, tool definitions, tool turns and images", () => {
    const base = { model: "m", messages: [{ role: "user", content: "hi" }] };
    const plain = countRequestTokens(req(base));
    const withSystem = countRequestTokens(req({ ...base, system: [{ type: "text", text: "You are a careful assistant who explains each step." }] }));
    const withTools = countRequestTokens(req({ ...base, tools: [{ name: "get_weather", description: "Weather for a city", input_schema: { type: "object", properties: { city: { type: "string" } } } }] }));
    const withImage = countRequestTokens(req({ ...base, messages: [{ role: "user", content: [{ type: "text", text: "hi" }, { type: "image", source: { type: "url", url: "https://example.com/a.png" } }] }] }));
    const withToolTurn = countRequestTokens(
      req({
        ...base,
        messages: [
          { role: "user", content: "hi" },
          { role: "assistant", content: [{ type: "tool_use", id: "t", name: "get_weather", input: { city: "Paris" } }] },
          { role: "user", content: [{ type: "tool_result", tool_use_id: "t", content: "Sunny and warm all day long." }] },
        ],
      }),
    );
    expect(withSystem).toBeGreaterThan(plain + 5);
    expect(withTools).toBeGreaterThan(plain + 10);
    expect(withImage).toBe(plain + IMAGE_TOKENS);
    expect(withToolTurn).toBeGreaterThan(plain + 15);
  });
});
