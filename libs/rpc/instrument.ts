// Wraps a service implementation so every method reports RED metrics, in both run modes
// (the direct in-process client and the gRPC server call the same wrapped object).
import type { DescService } from "@bufbuild/protobuf";
import { ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { RpcMetrics } from "#libs/metrics/registry.ts";

type AnyFn = (req: unknown, ctx: unknown) => unknown;

export function instrument<S extends DescService>(service: S, impl: ServiceImpl<S>, metrics: RpcMetrics): ServiceImpl<S> {
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
          return res;
        } catch (e) {
          metrics.observe(name, codeOf(e), (performance.now() - t0) / 1000);
          throw e;
        }
      };
    } else {
      out[method.localName] = (req, ctx) =>
        (async function* () {
          const t0 = performance.now();
          try {
            yield* fn.call(impl, req, ctx) as AsyncIterable<unknown>;
            metrics.observe(name, "ok", (performance.now() - t0) / 1000);
          } catch (e) {
            metrics.observe(name, codeOf(e), (performance.now() - t0) / 1000);
            throw e;
          }
        })();
    }
  }
  return out as unknown as ServiceImpl<S>;
}

function codeOf(e: unknown): string {
  return e instanceof ConnectError ? String(e.code) : "unknown";
}
