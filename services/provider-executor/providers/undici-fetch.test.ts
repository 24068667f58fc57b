// The undici-backed fetch, directly and under the real `openai` SDK: same outcomes as the platform fetch.
import http from "node:http";
import type { AddressInfo } from "node:net";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "#libs/simulator/server.ts";
import { fromSdkError } from "./errors.ts";
import { createUndiciFetch } from "./undici-fetch.ts";

let server: http.Server;
let base = "";
let slow: Simulator;
const undiciFetch = createUndiciFetch();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      if (req.url === "/echo") {
        res.writeHead(201, { "content-type": "application/json", "x-multi": ["a", "b"] });
        res.end(JSON.stringify({ method: req.method, auth: req.headers.authorization, body }));
      } else if (req.url === "/chunks") {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write("one\n");
        setTimeout(() => res.end("two\n"), 5);
      } else {
        res.writeHead(404, { "content-type": "text/plain" });
        res.end("nope");
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  slow = await startSimulator({ latencyMs: 5_000 });
});
afterAll(async () => {
  await slow.close();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

describe("createUndiciFetch", () => {
  it("sends method, headers and body; exposes status, headers and json()", async () => {
    const res = await undiciFetch(`${base}/echo`, { method: "post", headers: new Headers({ Authorization: "Bearer k" }), body: '{"a":1}' });
    expect(res.status).toBe(201);
    expect(res.ok).toBe(true);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("x-multi")).toBe("a, b");
    expect(await res.json()).toEqual({ method: "POST", auth: "Bearer k", body: '{"a":1}' });
  });

  it("gives non-2xx responses with their text, and an async-iterable body", async () => {
    const miss = await undiciFetch(`${base}/missing`, { headers: [["x-a", "1"]] });
    expect(miss.ok).toBe(false);
    expect(await miss.text()).toBe("nope");
    const res = await undiciFetch(new URL(`${base}/chunks`));
    let text = "";
    for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) text += Buffer.from(c).toString();
    expect(text).toBe("one\ntwo\n");
  });

  it("rejects with an AbortError when the signal fires", async () => {
    const ac = new AbortController();
    const p = undiciFetch(`${slow.url}/v1/chat/completions`, { method: "POST", body: "{}", headers: { "content-type": "application/json" }, signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    const e = await p.catch((x: unknown) => x);
    expect((e as Error).name).toBe("AbortError");
  });

  it("gives the SDK the same abort and timeout outcomes as the platform fetch", async () => {
    const outcome = async (f: typeof fetch, mode: "abort" | "timeout"): Promise<string> => {
      const client = new OpenAI({ baseURL: `${slow.url}/v1`, apiKey: "k", maxRetries: 0, timeout: mode === "timeout" ? 30 : 5_000, fetch: f, logLevel: "off" });
      const ac = new AbortController();
      if (mode === "abort") setTimeout(() => ac.abort(), 30);
      const e = await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }, { signal: ac.signal }).catch((x: unknown) => x);
      return fromSdkError(e, OpenAI, () => ({ message: null, code: null, param: null })).kind;
    };
    for (const mode of ["abort", "timeout"] as const) {
      expect(await outcome(undiciFetch, mode)).toBe(await outcome(globalThis.fetch, mode));
    }
    expect(await outcome(undiciFetch, "abort")).toBe("aborted");
    expect(await outcome(undiciFetch, "timeout")).toBe("timeout");
  });
});
