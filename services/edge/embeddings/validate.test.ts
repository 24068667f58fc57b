import { describe, expect, it } from "vitest";
import { inputItems, tokenBound, validateEmbeddingsRequest } from "./validate.ts";

function paramOf(body: unknown): string | null | undefined {
  const r = validateEmbeddingsRequest(body);
  return r.ok ? undefined : r.error.param;
}

describe("validateEmbeddingsRequest", () => {
  it("accepts every input shape OpenAI takes", () => {
    for (const input of ["hi", ["a", "b"], [1, 2, 3], [[1, 2], [3]]]) expect(validateEmbeddingsRequest({ model: "m", input }).ok).toBe(true);
    expect(validateEmbeddingsRequest({ model: "m", input: "x", dimensions: 256, encoding_format: "base64", user: "u1" }).ok).toBe(true);
  });

  it("names the param of what it refuses", () => {
    expect(paramOf({ input: "x" })).toBe("model");
    expect(paramOf({ model: "m" })).toBe("input");
    expect(paramOf({ model: "m", input: "" })).toBe("input");
    expect(paramOf({ model: "m", input: [] })).toBe("input");
    expect(paramOf({ model: "m", input: [1.5] })).toBe("input[0]");
    expect(paramOf({ model: "m", input: Array.from({ length: 2049 }, () => "x") })).toBe("input");
    expect(paramOf({ model: "m", input: "x", dimensions: -1 })).toBe("dimensions");
    expect(paramOf({ model: "m", input: "x", encoding_format: "int8" })).toBe("encoding_format");
    expect(paramOf({ model: "m", input: "x", stream: true })).toBe("stream");
    expect(validateEmbeddingsRequest([1]).ok).toBe(false);
  });

  it("bounds tokens by UTF-8 bytes (a token is at least one byte) and counts token ids as they are", () => {
    expect(tokenBound("héllo")).toBe(6);
    expect(tokenBound(["ab", "c"])).toBe(3);
    expect(tokenBound([5, 6, 7])).toBe(3);
    expect(tokenBound([[5, 6], [7]])).toBe(3);
    expect(inputItems([1, 2])).toEqual([[1, 2]]);
    expect(inputItems("s")).toEqual(["s"]);
  });
});
