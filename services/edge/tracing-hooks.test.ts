import { createServer, type Server } from "node:http";
import { trace } from "@opentelemetry/api";
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startTracing, type Tracing } from "#libs/tracing/tracing.ts";
import { traceIdOfRequest } from "./request-meta.ts";
import { registerTracing } from "./tracing-hooks.ts";

const TRACE = "0af7651916cd43dd8448eb211c80319c";
const PARENT = `00-${TRACE}-b7ad6b7169203331-01`;

function app(): FastifyInstance {
  const a = Fastify();
  registerTracing(a);
  // What the route sees: the active span (its RPCs and events join it) and the id it records.
  a.get("/v1/x", async (req) => ({ active: trace.getActiveSpan()?.spanContext().traceId ?? null, recorded: traceIdOfRequest(req) }));
  return a;
}

let collector: Server;
let endpoint = "";
beforeAll(async () => {
  collector = createServer((req, res) => req.resume().on("end", () => res.writeHead(200).end("{}")));
  await new Promise<void>((r) => collector.listen(0, "127.0.0.1", () => r()));
  const addr = collector.address();
  endpoint = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}/v1/traces`;
});
afterAll(() => new Promise<void>((r) => collector.close(() => r())));

describe("edge tracing hooks", () => {
  let t: Tracing | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  it("off: x-llmgw-trace-id is the caller's trace id, else the request id; no span", async () => {
    const a = app();
    const withParent = await a.inject({ url: "/v1/x", headers: { traceparent: PARENT } });
    expect(withParent.headers["x-llmgw-trace-id"]).toBe(TRACE);
    expect(withParent.json()).toEqual({ active: null, recorded: TRACE });
    const without = await a.inject({ url: "/v1/x" });
    expect(without.headers["x-llmgw-trace-id"]).toMatch(/^[\da-z]+$/);
    expect(without.json<{ recorded: string }>().recorded).toBe(without.headers["x-llmgw-trace-id"]);
    await a.close();
  });

  it("on: the route runs inside the request's span, in the caller's trace, and its id goes back", async () => {
    t = startTracing({ endpoint, headers: {} }, "llmgw");
    const a = app();
    const res = await a.inject({ url: "/v1/x", headers: { traceparent: PARENT } });
    expect(res.headers["x-llmgw-trace-id"]).toBe(TRACE);
    expect(res.json()).toEqual({ active: TRACE, recorded: TRACE });
    // A new trace when the caller sends none: header, active span and recorded id agree.
    const fresh = await a.inject({ url: "/v1/x" });
    const body = fresh.json<{ active: string; recorded: string }>();
    expect(body.active).toMatch(/^[\da-f]{32}$/);
    expect(body.active).not.toBe(TRACE);
    expect(body.recorded).toBe(body.active);
    expect(fresh.headers["x-llmgw-trace-id"]).toBe(body.active);
    await a.close();
  });
});
