import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OpenAIEmbedder } from "./openai-embedder.ts";

// A real HTTP server speaking the embeddings wire format: exercises the SDK path end to end.
let server: Server;
let baseURL = "";
beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const parsed = JSON.parse(body) as { input: string[]; model: string };
      const data = parsed.input.map((t, index) => ({ object: "embedding", index, embedding: [t.length, 1, 0] }));
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ object: "list", data: data.reverse(), model: parsed.model, usage: { prompt_tokens: 1, total_tokens: 1 } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe("OpenAIEmbedder", () => {
  it("embeds in input order, normalised, and names itself by model", async () => {
    const e = new OpenAIEmbedder({ baseURL, apiKey: "x", model: "text-embedding-3-small", dim: 3 });
    const [a, b] = await e.embed(["abc", "a"]);
    expect(e.name).toBe("openai:text-embedding-3-small");
    expect(a?.[0]).toBeCloseTo(3 / Math.sqrt(10));
    expect(b?.[0]).toBeCloseTo(1 / Math.sqrt(2));
  });
  it("rejects a dimension mismatch", async () => {
    const e = new OpenAIEmbedder({ baseURL, apiKey: "x", model: "m", dim: 4 });
    await expect(e.embed(["a"])).rejects.toThrow(/dim/);
  });
});
