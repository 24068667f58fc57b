// Embedded mode: a Client<S> that calls the service implementation in-process, with no socket
// and no serialization. Callers cannot tell it from a gRPC client, so the same code runs in both modes.
import { create, type DescMessage, type DescService } from "@bufbuild/protobuf";
import { createHandlerContext, type CallOptions, type Client, type ServiceImpl } from "@connectrpc/connect";

type AnyFn = (req: unknown, ctx: unknown) => unknown;

export function createDirectClient<S extends DescService>(service: S, impl: ServiceImpl<S>): Client<S> {
  const client: Record<string, unknown> = {};
  const source = impl as unknown as Record<string, AnyFn>;
  for (const method of service.methods) {
    const fn = source[method.localName];
    if (!fn) throw new Error(`${service.typeName}.${method.name} is not implemented`);
    const input: DescMessage = method.input;
    const output: DescMessage = method.output;
    const ctxFor = (opts?: CallOptions) =>
      createHandlerContext({
        service,
        method,
        protocolName: "in-process",
        requestMethod: "POST",
        url: `inproc:///${service.typeName}/${method.name}`,
        timeoutMs: opts?.timeoutMs,
        requestSignal: opts?.signal,
        requestHeader: opts?.headers,
        contextValues: opts?.contextValues,
      });
    if (method.methodKind === "unary") {
      client[method.localName] = async (req: unknown, opts?: CallOptions) => {
        const res = await fn.call(impl, create(input, req as never), ctxFor(opts));
        return create(output, res as never);
      };
    } else if (method.methodKind === "server_streaming") {
      client[method.localName] = (req: unknown, opts?: CallOptions) =>
        (async function* () {
          const stream = fn.call(impl, create(input, req as never), ctxFor(opts)) as AsyncIterable<unknown>;
          for await (const res of stream) yield create(output, res as never);
        })();
    } else {
      throw new Error(`${method.methodKind} RPCs are not supported in-process`);
    }
  }
  return client as Client<S>;
}
