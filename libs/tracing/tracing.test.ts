import { createServer, type Server } from "node:http";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { MemoryEventBus } from "#libs/bus/memory-bus.ts";
import { readSettings } from "#libs/config/settings.ts";
import { activeIds, context, gatewayTracer, startTracing, trace, traceHeaders, traceLogFields, tracingOn, type Tracing } from "./tracing.ts";

// A collector that takes whatever it is sent (what is exported is the e2e test's concern).
let collector: Server;
let SETTINGS = { endpoint: "", headers: {} };
beforeAll(async () => {
  collector = createServer((req, res) => req.resume().on("end", () => res.writeHead(200).end("{}")));
  await new Promise<void>((r) => collector.listen(0, "127.0.0.1", () => r()));
  const addr = collector.address();
  SETTINGS = { endpoint: `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}/v1/traces`, headers: {} };
});
afterAll(() => new Promise<void>((r) => collector.close(() => r())));

describe("tracing", () => {
  let t: Tracing | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  it("is off without an endpoint: nothing registered, no carrier, no log fields", () => {
    t = startTracing(undefined, "llmgw");
    expect(t.enabled).toBe(false);
    expect(tracingOn()).toBe(false);
    gatewayTracer().startActiveSpan("x", (span) => {
      expect(traceHeaders()).toBeUndefined();
      expect(traceLogFields()).toEqual({});
      span.end();
    });
  });

  it("on: the active span's traceparent for carriers and its ids on every log line; off again after the last stop", async () => {
    t = startTracing(SETTINGS, "llmgw");
    const second = startTracing(SETTINGS, "llmgw");
    expect(() => startTracing({ ...SETTINGS, endpoint: "http://127.0.0.1:10/v1/traces" }, "x")).toThrow(/one OTLP endpoint per process/);
    const lines: string[] = [];
    const logger = pino({ mixin: traceLogFields }, new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) }));
    const span = gatewayTracer().startSpan("work");
    const { traceId, spanId } = span.spanContext();
    context.with(trace.setSpan(context.active(), span), () => {
      expect(traceHeaders()?.traceparent).toBe(`00-${traceId}-${spanId}-01`);
      expect(activeIds()).toEqual({ trace_id: traceId, span_id: spanId });
      logger.info("inside");
    });
    logger.info("outside");
    span.end();
    expect(JSON.parse(lines[0] ?? "{}")).toMatchObject({ msg: "inside", trace_id: traceId, span_id: spanId });
    expect(JSON.parse(lines[1] ?? "{}")).not.toHaveProperty("trace_id");
    await second.stop();
    expect(tracingOn()).toBe(true);
    await t.stop();
    expect(tracingOn()).toBe(false);
  });

  it("the in-process bus carries the publisher's trace context to the consumer", async () => {
    t = startTracing(SETTINGS, "llmgw");
    const bus = new MemoryEventBus();
    const got: (Readonly<Record<string, string>> | undefined)[] = [];
    const sub = await bus.subscribe({ durable: "d", filterSubject: "llmgw.events.>", maxWaitMs: 1 }, async (msgs) => {
      for (const m of msgs) (got.push(m.headers), m.ack());
    });
    const span = gatewayTracer().startSpan("publish");
    await context.with(trace.setSpan(context.active(), span), () => bus.publish("llmgw.events.a", new Uint8Array([1]), "m1"));
    // Explicit headers (the outbox's, captured at publish time) win over the active context.
    await bus.publish("llmgw.events.b", new Uint8Array([2]), "m2", { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" });
    span.end();
    for (let i = 0; i < 50 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    await sub.stop();
    expect(got[0]?.traceparent).toContain(span.spanContext().traceId);
    expect(got[1]?.traceparent).toBe("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  });
});

describe("tracing settings", () => {
  it("reads the OTLP exporter variables as the spec defines them", () => {
    expect(readSettings({}).tracing).toBeUndefined();
    expect(readSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "https://cloud.langfuse.com/api/public/otel/" }).tracing?.endpoint).toBe("https://cloud.langfuse.com/api/public/otel/v1/traces");
    expect(readSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://a:4318", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://b:4318/custom" }).tracing?.endpoint).toBe("http://b:4318/custom");
    const s = readSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://a:4318", OTEL_EXPORTER_OTLP_HEADERS: "Authorization=Basic%20cGs6c2s=, x-langfuse-ingestion-version=4", OTEL_SERVICE_NAME: "gw" });
    expect(s.tracing).toEqual({ endpoint: "http://a:4318/v1/traces", headers: { Authorization: "Basic cGs6c2s=", "x-langfuse-ingestion-version": "4" }, serviceName: "gw" });
    expect(readSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://a:4318", OTEL_SDK_DISABLED: "true" }).tracing).toBeUndefined();
    expect(() => readSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "a:4317" })).toThrow(/expected an http\(s\) URL/);
  });
});
