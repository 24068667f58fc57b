import { describe, expect, it } from "vitest";
import { base64ToFloats, toClient, toStored } from "./vectors.ts";

const floats = [0.5, -0.25, 0.125, 1 / 3];
const f32 = Array.from(Float32Array.from(floats));
const b64 = Buffer.from(Float32Array.from(floats).buffer).toString("base64");

describe("embedding vectors", () => {
  it("stores base64 whether the provider sent base64 or floats", () => {
    const fromB64 = toStored({ data: [{ index: 0, embedding: b64 }], usage: { prompt_tokens: 3, total_tokens: 3 } }, "m");
    const fromFloats = toStored({ data: [{ index: 0, embedding: floats }], usage: { prompt_tokens: 3 } }, "m");
    expect(fromB64).toEqual(fromFloats);
    expect(fromB64.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });
    expect(fromB64.model).toBe("m");
  });

  it("gives the client float32 values exactly, or the base64 text", () => {
    const stored = toStored({ data: [{ index: 0, embedding: b64 }] }, "m");
    expect(toClient(stored, "float").data[0]?.embedding).toEqual(f32);
    expect(toClient(stored, "base64").data[0]?.embedding).toBe(b64);
    // A base64 string decoded from an unaligned offset is still read right.
    expect(base64ToFloats(b64)).toEqual(f32);
  });

  it("refuses an answer that is not an embeddings list", () => {
    expect(() => toStored({ nope: 1 }, "m")).toThrow(/no data/);
    expect(() => toStored({ data: [{ embedding: { x: 1 } }] }, "m")).toThrow(/data\[0\]/);
  });
});
