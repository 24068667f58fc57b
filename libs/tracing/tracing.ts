// Distributed traces with the OpenTelemetry SDK, exported over OTLP/HTTP when an endpoint is set
// (settings.tracing, from OTEL_EXPORTER_OTLP_* in libs/config/settings.ts). Without one nothing is
// registered: the API stays the no-op it ships as, and `tracingOn()` lets the hot path skip even
// building a carrier. One provider per process, shared by every service composed in it (refcounted:
// embedded and in-process mesh tests start and stop gateways in one process).
import { createRequire } from "node:module";
import { context, propagation, ROOT_CONTEXT, trace, type Context, type Span, type TextMapGetter, type Tracer } from "@opentelemetry/api";
import type { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import type { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";

// The SDK (provider, OTLP exporter, resources: ~10 MB resident once loaded) is required only when an
// endpoint is set: tracing is off by default and the API alone is the no-op. Synchronous require keeps
// startTracing synchronous; these packages have no `exports` map, so Node's import() of them loads the
// same CommonJS builds anyway.
const requireSdk = createRequire(import.meta.url);

function loadSdk() {
  const { AsyncLocalStorageContextManager } = requireSdk("@opentelemetry/context-async-hooks") as typeof import("@opentelemetry/context-async-hooks");
  const { W3CTraceContextPropagator } = requireSdk("@opentelemetry/core") as typeof import("@opentelemetry/core");
  const { OTLPTraceExporter } = requireSdk("@opentelemetry/exporter-trace-otlp-http") as typeof import("@opentelemetry/exporter-trace-otlp-http");
  const { resourceFromAttributes } = requireSdk("@opentelemetry/resources") as typeof import("@opentelemetry/resources");
  const { BasicTracerProvider, BatchSpanProcessor } = requireSdk("@opentelemetry/sdk-trace-base") as typeof import("@opentelemetry/sdk-trace-base");
  return { AsyncLocalStorageContextManager, W3CTraceContextPropagator, OTLPTraceExporter, resourceFromAttributes, BasicTracerProvider, BatchSpanProcessor };
}

export interface TracingSettings {
  /** Full OTLP/HTTP traces URL (…/v1/traces). */
  endpoint: string;
  /** Extra request headers for the collector (e.g. Authorization for Langfuse). */
  headers: Readonly<Record<string, string>>;
  /** resource service.name; the composition's name when absent. */
  serviceName?: string;
}

export interface Tracing {
  readonly enabled: boolean;
  /** Exports what has ended so far. */
  flush(): Promise<void>;
  /** Releases this start's hold on the provider; the last one flushes and unregisters it. */
  stop(): Promise<void>;
}

interface Active {
  provider: BasicTracerProvider;
  contextManager: AsyncLocalStorageContextManager;
  endpoint: string;
  refs: number;
}

let active: Active | undefined;
let tracer: Tracer | undefined;

const DISABLED: Tracing = { enabled: false, flush: async () => undefined, stop: async () => undefined };

/** True while a provider is registered: callers skip span work entirely otherwise. */
export function tracingOn(): boolean {
  return active !== undefined;
}

/** The gateway's tracer (the no-op tracer when tracing is off). */
export function gatewayTracer(): Tracer {
  return tracer ?? trace.getTracer("llmgw");
}

export function startTracing(settings: TracingSettings | undefined, serviceName: string): Tracing {
  if (!settings) return DISABLED;
  if (active) {
    // One exporter per process: a second composition in the same process shares it.
    if (active.endpoint !== settings.endpoint) throw new Error(`tracing already exports to ${active.endpoint}; one OTLP endpoint per process`);
    active.refs += 1;
  } else {
    const { AsyncLocalStorageContextManager, BasicTracerProvider, BatchSpanProcessor, OTLPTraceExporter, resourceFromAttributes, W3CTraceContextPropagator } = loadSdk();
    const exporter = new OTLPTraceExporter({ url: settings.endpoint, headers: { ...settings.headers } });
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ "service.name": settings.serviceName ?? serviceName, "service.namespace": "llmgw" }),
      spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1_000, maxExportBatchSize: 512 })],
    });
    const contextManager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(contextManager);
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(provider);
    tracer = provider.getTracer("llmgw");
    active = { provider, contextManager, endpoint: settings.endpoint, refs: 1 };
  }
  const mine = active;
  let stopped = false;
  // A collector that is down costs spans, never a failed shutdown.
  const flush = () => mine.provider.forceFlush().catch(() => undefined);
  return {
    enabled: true,
    flush,
    async stop() {
      if (stopped) return;
      stopped = true;
      mine.refs -= 1;
      if (mine.refs > 0) return flush();
      if (active === mine) {
        active = undefined;
        tracer = undefined;
        trace.disable();
        propagation.disable();
        context.disable();
      }
      await mine.provider.shutdown().catch(() => undefined);
    },
  };
}

/** Flushes the process's provider, if any (tests wait on it). */
export async function flushTracing(): Promise<void> {
  await active?.provider.forceFlush().catch(() => undefined);
}

const recordGetter: TextMapGetter<Readonly<Record<string, string | string[] | undefined>>> = {
  keys: (c) => Object.keys(c),
  get: (c, k) => c[k] ?? c[k.toLowerCase()],
};

const headersGetter: TextMapGetter<Headers> = {
  keys: (h) => [...h.keys()],
  get: (h, k) => h.get(k) ?? undefined,
};

/** The context a traceparent in these headers names (ROOT when none). */
export function extractContext(carrier: Headers | Readonly<Record<string, string | string[] | undefined>> | undefined, base: Context = ROOT_CONTEXT): Context {
  if (!carrier) return base;
  return carrier instanceof Headers ? propagation.extract(base, carrier, headersGetter) : propagation.extract(base, carrier, recordGetter);
}

/** traceparent (and tracestate) of the active span, for a message or call to carry; undefined when off. */
export function traceHeaders(ctx: Context = context.active()): Record<string, string> | undefined {
  if (!active) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier.traceparent ? carrier : undefined;
}

/** Trace and span id of the active span (log lines). */
export function activeIds(): { trace_id: string; span_id: string } | undefined {
  if (!active) return undefined;
  const span = trace.getActiveSpan();
  if (!span) return undefined;
  const c = span.spanContext();
  return { trace_id: c.traceId, span_id: c.spanId };
}

/**
 * pino mixin: trace_id and span_id of the active span on every log line written inside one. A fresh
 * object each time: pino merges the line's own fields into it (a shared frozen one threw on every
 * line with fields written outside a trace, e.g. the executor's start-up warning).
 */
export function traceLogFields(): object {
  return activeIds() ?? {};
}

export { context, trace, type Context, type Span };
