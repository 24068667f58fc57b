// Embedded mode: a Client<S> that calls the service implementation in-process, with no socket
// and no serialization. Callers cannot tell it from a gRPC client, so the same code runs in both modes.
import type { DescMessage, DescMethod, DescService } from "@bufbuild/protobuf";
import { asMessage } from "./wire.ts";
import { LazyStream } from "./lazy-stream.ts";
import { createContextValues, type CallOptions, type Client, type ContextValues, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { lazyClients, type ServiceClients, type ServiceName } from "./service-clients.ts";

type AnyFn = (req: unknown, ctx: unknown) => unknown;

// A signal that never fires, shared by calls that bring none (creating an AbortController per call
// is measurably expensive on Node 20).
const NEVER = new AbortController().signal;

/**
 * A HandlerContext without Connect's per-call AbortController and Headers: headers are created only
 * if a handler touches them. Handlers get the caller's signal directly.
 */
class InProcessContext implements HandlerContext {
  readonly requestMethod = "POST";
  readonly protocolName = "in-process";
  private reqHeader: Headers | undefined;
  private resHeader: Headers | undefined;
  private resTrailer: Headers | undefined;
  private ctxValues: ContextValues | undefined;

  constructor(
    readonly service: DescService,
    readonly method: DescMethod,
    private readonly opts: CallOptions | undefined,
  ) {}

  get signal(): AbortSignal {
    return this.opts?.signal ?? NEVER;
  }
  timeoutMs(): number | undefined {
    return this.opts?.timeoutMs;
  }
  get url(): string {
    return `inproc:///${this.service.typeName}/${this.method.name}`;
  }
  get requestHeader(): Headers {
    return (this.reqHeader ??= new Headers(this.opts?.headers));
  }
  get responseHeader(): Headers {
    return (this.resHeader ??= new Headers());
  }
  get responseTrailer(): Headers {
    return (this.resTrailer ??= new Headers());
  }
  get values(): ContextValues {
    return (this.ctxValues ??= this.opts?.contextValues ?? createContextValues());
  }
}

/** A server stream's messages, each made a message of `output` (asMessage). */
class MessageStream extends LazyStream {
  constructor(
    start: () => AsyncIterable<unknown>,
    private readonly output: DescMessage,
  ) {
    super(start);
  }

  protected override map(value: unknown): unknown {
    return asMessage(this.output, value);
  }
}

export function createDirectClient<S extends DescService>(service: S, impl: ServiceImpl<S>): Client<S> {
  const client: Record<string, unknown> = {};
  const source = impl as unknown as Record<string, AnyFn>;
  for (const method of service.methods) {
    const fn = source[method.localName];
    if (!fn) throw new Error(`${service.typeName}.${method.name} is not implemented`);
    const input: DescMessage = method.input;
    const output: DescMessage = method.output;
    if (method.methodKind === "unary") {
      client[method.localName] = async (req: unknown, opts?: CallOptions) => {
        const res = await fn.call(impl, asMessage(input, req), new InProcessContext(service, method, opts));
        return asMessage(output, res);
      };
    } else if (method.methodKind === "server_streaming") {
      client[method.localName] = (req: unknown, opts?: CallOptions) =>
        new MessageStream(() => fn.call(impl, asMessage(input, req), new InProcessContext(service, method, opts)) as AsyncIterable<unknown>, output);
    } else {
      throw new Error(`${method.methodKind} RPCs are not supported in-process`);
    }
  }
  return client as Client<S>;
}

/**
 * In-process clients for every service, resolved on first use from `impl(name)` (the composition
 * root's built services), so a service may be handed its peers' clients before they exist.
 */
export function directClients(impl: (name: ServiceName) => ServiceImpl<DescService> | undefined): ServiceClients {
  return lazyClients((name, service) => {
    const i = impl(name);
    if (!i) throw new Error(`service ${name} is called before it is built: check the order of the service table`);
    return createDirectClient(service, i);
  });
}
