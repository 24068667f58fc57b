// Wraps a service implementation so every method reports RED metrics, in both run modes
// (the direct in-process client and the gRPC server call the same wrapped object).
import type { DescService } from "@bufbuild/protobuf";
import { ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { RpcMetrics } from "#libs/metrics/registry.ts";
import type { Logger } from "#libs/log/logger.ts";
import { traceService } from "#libs/tracing/rpc-spans.ts";
import { tracingOn } from "#libs/tracing/tracing.ts";
import { LazyStream } from "./lazy-stream.ts";

/** Where a request id travels in our messages: RequestContext, a cache key's context, or a reservation. */
function requestIdOf(req: unknown): string | undefined {
  const r = req as { context?: { requestId?: string }; key?: { context?: { requestId?: string } }; reservationId?: string };
  return r.context?.requestId || r.key?.context?.requestId || r.reservationId || undefined;
}

type AnyFn = (req: unknown, ctx: unknown) => unknown;

/**
 * With a logger, every RPC that carries a request id is logged once (method, ms, outcome) at
 * `level`, so one request can be followed through every service's log by its id.
 */
export function instrument<S extends DescService>(service: S, served: ServiceImpl<S>, metrics: RpcMetrics, log?: { logger: Logger; level: "info" | "debug" }): ServiceImpl<S> {
  // With tracing on (decided when the service is wired), each call also gets a server span.
  const impl = tracingOn() ? traceService(service, served) : served;
  const emit = (method: string, req: unknown, t0: number, outcome: string) => {
    if (!log) return;
    const requestId = requestIdOf(req);
    if (requestId) log.logger[log.level]({ requestId, rpc: method, ms: Math.round((performance.now() - t0) * 1000) / 1000, outcome }, "rpc");
  };
  const out: Record<string, AnyFn> = {};
  const source = impl as unknown as Record<string, AnyFn>;
  for (const method of service.methods) {
    const fn = source[method.localName];
    if (!fn) continue;
    const name = `${service.name}/${method.name}`;
    if (method.methodKind === "unary") {
      out[method.localName] = async (req, ctx) => {
        const t0 = performance.now();
        try {
          const res = await fn.call(impl, req, ctx);
          metrics.observe(name, "ok", (performance.now() - t0) / 1000);
          emit(method.name, req, t0, "ok");
          return res;
        } catch (e) {
          metrics.observe(name, codeOf(e), (performance.now() - t0) / 1000);
          emit(method.name, req, t0, codeOf(e));
          throw e;
        }
      };
    } else {
      out[method.localName] = (req, ctx) =>
        new TimedStream(
          () => fn.call(impl, req, ctx) as AsyncIterable<unknown>,
          (outcome, t0) => {
            metrics.observe(name, outcome, (performance.now() - t0) / 1000);
            emit(method.name, req, t0, outcome);
          },
        );
    }
  }
  return out as unknown as ServiceImpl<S>;
}

/**
 * A handler's stream, reporting its outcome once: "ok" when it ends, the error's code when it fails,
 * nothing when the caller stops early. The clock starts with the handler, on the first next().
 */
class TimedStream extends LazyStream {
  private t0 = 0;

  constructor(
    start: () => AsyncIterable<unknown>,
    private readonly report: (outcome: string, t0: number) => void,
  ) {
    super(start);
  }

  protected override began(): void {
    this.t0 = performance.now();
  }

  protected override ended(failed: boolean, err?: unknown): void {
    this.report(failed ? codeOf(err) : "ok", this.t0);
  }
}

function codeOf(e: unknown): string {
  return e instanceof ConnectError ? String(e.code) : "unknown";
}
