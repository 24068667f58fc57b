import { EventEmitter } from "node:events";
import { createServer, type Server } from "node:http";
import { Agent } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requestText, TextCallError } from "./undici-text.ts";

let server: Server;
let origin = "";
const agent = new Agent();

beforeAll(async () => {
  server = createServer((req, res) => {
    switch (req.url) {
      case "/split": {
        // "é" (c3 a9) cut between two writes, after a BOM: decoded whole, without the BOM.
        res.writeHead(200, { "content-type": "application/json" });
        res.write(Buffer.from([0xef, 0xbb, 0xbf, 0x22, 0x63, 0x61, 0x66, 0xc3]));
        setTimeout(() => res.end(Buffer.from([0xa9, 0x22])), 10);
        return;
      }
      case "/limited":
        res.writeHead(429, { "retry-after": "7", "x-other": "a" });
        return res.end("{}");
      case "/empty":
        res.writeHead(204);
        return res.end();
      case "/stall-body":
        res.writeHead(200, { "content-type": "application/json" });
        res.write("{");
        return; // the rest never comes
      case "/hang":
        return;
      default:
        res.writeHead(200);
        res.end("ok");
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const a = server.address();
  origin = `http://127.0.0.1:${typeof a === "object" && a ? a.port : 0}`;
});
afterAll(async () => {
  await agent.close();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

const get = (path: string, signal?: AbortSignal | EventEmitter & { aborted: boolean; reason: unknown }) => requestText(agent, { origin, path, method: "GET" }, signal);
const failure = (p: Promise<unknown>) => p.then(() => { throw new Error("resolved"); }, (e: unknown) => e as TextCallError);

/** An AbortEmitter as the engine's attempt abort is: aborted/reason, and "abort" emitted once. */
function emitter() {
  const e = Object.assign(new EventEmitter(), { aborted: false, reason: undefined as unknown });
  return {
    e,
    abort() {
      e.aborted = true;
      e.reason = new Error("client");
      e.emit("abort");
    },
  };
}

describe("requestText", () => {
  it("reads a body that arrives in pieces as UTF-8, without a leading BOM", async () => {
    const r = await get("/split");
    expect(r.statusCode).toBe(200);
    expect(r.text).toBe('"café"');
    expect(JSON.parse(r.text)).toBe("café");
    expect(r.headers).toEqual({}); // 2xx: not parsed
  });

  it("parses the headers of an answer outside 2xx", async () => {
    const r = await get("/limited");
    expect(r.statusCode).toBe(429);
    expect(r.headers["retry-after"]).toBe("7");
    expect(r.text).toBe("{}");
  });

  it("an answer without a body is empty text", async () => {
    expect(await get("/empty")).toMatchObject({ statusCode: 204, text: "" });
  });

  it("an abort before the answer fails the call, before headers", async () => {
    const ac = new AbortController();
    const p = get("/hang", ac.signal);
    setTimeout(() => ac.abort(), 20);
    const e = await failure(p);
    expect(e).toBeInstanceOf(TextCallError);
    expect(e.afterHeaders).toBe(false);
  });

  it("an AbortEmitter aborts a call whose body stalls, after headers", async () => {
    const a = emitter();
    const p = get("/stall-body", a.e);
    setTimeout(() => a.abort(), 50);
    const e = await failure(p);
    expect(e.afterHeaders).toBe(true);
    expect(e.message).toBe("client");
    expect(a.e.listenerCount("abort")).toBe(0);
  });

  it("an already aborted signal never sends the request", async () => {
    const a = emitter();
    a.abort();
    const e = await failure(get("/", a.e));
    expect(e.afterHeaders).toBe(false);
    expect(e.message).toBe("client");
  });

  it("a refused connection fails before headers; a finished call leaves no abort listener", async () => {
    const e = await failure(requestText(agent, { origin: "http://127.0.0.1:1", path: "/", method: "GET" }));
    expect(e.afterHeaders).toBe(false);
    const a = emitter();
    expect((await get("/", a.e)).text).toBe("ok");
    expect(a.e.listenerCount("abort")).toBe(0);
  });
});
