// A server span around every RPC a service handles, in both run modes. Its parent is the caller's
// traceparent when the call came over the wire (gRPC metadata / Connect headers), else the active
// context (embedded: the in-process caller's span, carried by AsyncLocalStorage).
import type { DescService } from "@bufbuild/protobuf";
import { ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { context, SpanKind, SpanStatusCode, trace, type Context, type Span } from "@opentelemetry/api";
import { extractContext, gatewayTracer } from "./tracing.ts";

type AnyFn = (req: unknown, ctx: HandlerContext) => unknown;

function parentOf(ctx: HandlerContext | undefined): Context {
  // In-process calls have no wire headers unless the caller set some: don't build them to find out.
  const wire = ctx && ctx.protocolName !== "in-process" ? ctx.requestHeader : undefined;
  const active = context.active();
  return wire?.has("traceparent") ? extractContext(wire, active) : active;
}

function fail(span: Span, e: unknown): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: e instanceof Error ? e.message : String(e) });
  if (e instanceof ConnectError) span.setAttribute("rpc.grpc.status_code", e.code);
}

/** Wraps every method of `impl` in a span named `<package.Service>/<Method>`. */
export function traceService<S extends DescService>(service: S, impl: ServiceImpl<S>): ServiceImpl<S> {
  const tracer = gatewayTracer();
  const out: Record<string, AnyFn> = {};
  const source = impl as unknown as Record<string, AnyFn>;
  for (const method of service.methods) {
    const fn = source[method.localName];
    if (!fn) continue;
    const name = `${service.typeName}/${method.name}`;
    const attributes = { "rpc.system": "grpc", "rpc.service": service.typeName, "rpc.method": method.name };
    if (method.methodKind === "unary") {
      out[method.localName] = async (req, ctx) => {
        const span = tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parentOf(ctx));
        try {
          return await context.with(trace.setSpan(context.active(), span), () => fn.call(impl, req, ctx));
        } catch (e) {
          fail(span, e);
          throw e;
        } finally {
          span.end();
        }
      };
    } else {
      out[method.localName] = (req, ctx) =>
        (async function* () {
          const span = tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parentOf(ctx));
          const spanCtx = trace.setSpan(context.active(), span);
          // Each step of the handler's generator runs in the span's context (its provider calls are children).
          const it = context.with(spanCtx, () => (fn.call(impl, req, ctx) as AsyncIterable<unknown>)[Symbol.asyncIterator]());
          try {
            for (;;) {
              const r = await context.with(spanCtx, () => it.next());
              if (r.done) break;
              yield r.value;
            }
          } catch (e) {
            fail(span, e);
            throw e;
          } finally {
            await it.return?.();
            span.end();
          }
        })();
    }
  }
  return out as unknown as ServiceImpl<S>;
}
