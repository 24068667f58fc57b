import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatEndpoint, DirectCallError, directChat } from "./openai-direct.ts";

let server: Server;
let base = "";
const seen: { path: string; auth: string; body: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString("utf8")));
    req.on("end", () => {
      seen.push({ path: req.url ?? "", auth: req.headers.authorization ?? "", body });
      const model = (JSON.parse(body) as { model: string }).model;
      if (model === "limited") {
        res.writeHead(429, { "content-type": "application/json", "retry-after": "7" });
        return res.end(JSON.stringify({ error: { message: "slow down", code: "rate_limit_exceeded", param: null } }));
      }
      if (model === "garbage") {
        res.writeHead(200, { "content-type": "text/plain" });
        return res.end("not json");
      }
      if (model === "hang") return; // never answers
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ id: "c1", object: "chat.completion", created: 1, model, choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }] }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const a = server.address();
  base = `http://127.0.0.1:${typeof a === "object" && a ? a.port : 0}/v1/`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const call = (model: string, signal = new AbortController().signal) => directChat({ baseURL: base, apiKey: "sk-test" })({ model, messages: [{ role: "user", content: "hi" }] }, signal);
const failure = async (p: Promise<unknown>) => {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(DirectCallError);
  return (e as DirectCallError).failure;
};

describe("directChat", () => {
  it("posts the body to {baseURL}/chat/completions with the bearer key and returns the completion", async () => {
    const c = await call("m1");
    expect(c.choices[0]?.message.content).toBe("hi");
    const last = seen.at(-1);
    expect(last?.path).toBe("/v1/chat/completions");
    expect(last?.auth).toBe("Bearer sk-test");
    expect(JSON.parse(last?.body ?? "{}")).toEqual({ model: "m1", messages: [{ role: "user", content: "hi" }] });
  });

  it("an HTTP error keeps the provider's message, code and Retry-After", async () => {
    expect(await failure(call("limited"))).toEqual({ kind: "http", status: 429, message: "slow down", code: "rate_limit_exceeded", param: null, retryAfterSec: 7 });
  });

  it("a 200 that is not a chat completion is an upstream failure, not a crash", async () => {
    expect(await failure(call("garbage"))).toMatchObject({ kind: "http", status: 502 });
  });

  it("an abort is reported as aborted; an unreachable server as a connection failure", async () => {
    const ac = new AbortController();
    const p = call("hang", ac.signal);
    setTimeout(() => ac.abort(), 50);
    expect((await failure(p)).kind).toBe("aborted");
    const dead = directChat({ baseURL: "http://127.0.0.1:1/v1", apiKey: "k" })({ model: "m", messages: [] }, new AbortController().signal);
    expect((await failure(dead)).kind).toBe("connection");
  });

  it("splits origin and path once", () => {
    expect(chatEndpoint("https://api.example.com/v1/")).toEqual({ origin: "https://api.example.com", path: "/v1/chat/completions" });
    expect(chatEndpoint("http://h:8000")).toEqual({ origin: "http://h:8000", path: "/chat/completions" });
  });
});
