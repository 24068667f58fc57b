import { describe, expect, it } from "vitest";
import { fromJsonBytes, jsonBytes } from "./json-bytes.ts";

describe("jsonBytes / fromJsonBytes", () => {
  const value = { id: "c1", choices: [{ index: 0, message: { role: "assistant", content: "héllo" } }], usage: null };

  it("the bytes are the value's JSON", () => {
    expect(new TextDecoder().decode(jsonBytes(value))).toBe(JSON.stringify(value));
  });

  it("an in-process reader takes the value itself, once; a second reader gets a parsed copy", () => {
    const bytes = jsonBytes(value);
    expect(fromJsonBytes(bytes)).toBe(value);
    const again = fromJsonBytes(bytes);
    expect(again).not.toBe(value);
    expect(again).toEqual(value);
  });

  it("bytes from elsewhere (the wire, a copy) are parsed", () => {
    const copy = new Uint8Array(jsonBytes(value));
    expect(fromJsonBytes(copy)).toEqual(value);
    expect(fromJsonBytes(new TextEncoder().encode("[1,2]"))).toEqual([1, 2]);
  });
});
