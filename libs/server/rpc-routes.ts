// What both fast paths (binary gRPC over HTTP/2, Connect over HTTP/1.1) share: the route table of
// unary and server-streaming methods, the lazily built HandlerContext, and error normalisation.
import type { DescMessage, DescMethod, DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues, type ContextValues, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";

/** One service on the port: its descriptor and its implementation (as given to `router.service`). */
export interface RpcServiceBinding {
  readonly service: DescService;
  readonly impl: object;
}

/** Type-checked binding: `rpcService(Health, healthService(...))`. Missing methods answer UNIMPLEMENTED (as with router.service). */
export function rpcService<S extends DescService>(service: S, impl: Partial<ServiceImpl<S>>): RpcServiceBinding {
  return { service, impl };
}

export type AnyFn = (req: unknown, ctx: HandlerContext) => unknown;

export interface Route {
  readonly service: DescService;
  readonly method: DescMethod;
  readonly input: DescMessage;
  readonly output: DescMessage;
  readonly streaming: boolean;
  readonly fn: AnyFn;
}

/** The abort reason of a call that ended normally. */
export const CALL_COMPLETED = new ConnectError("call completed", Code.Canceled);
export const NO_LIMIT = 0xffffffff;
// setTimeout overflows above 2^31-1 ms (it would fire at once): longer deadlines are not timed.
export const MAX_TIMER_MS = 2_147_483_647;

/** Path → route for every unary and server-streaming method the impls provide. */
export function routesOf(services: readonly RpcServiceBinding[]): Map<string, Route> {
  const routes = new Map<string, Route>();
  for (const { service, impl } of services) {
    const source = impl as Record<string, unknown>;
    for (const method of service.methods as readonly DescMethod[]) {
      if (method.methodKind !== "unary" && method.methodKind !== "server_streaming") continue;
      const f = source[method.localName];
      const fn: AnyFn =
        typeof f === "function"
          ? (f.bind(impl) as AnyFn)
          : () => {
              throw new ConnectError(`${service.typeName}.${method.name} is not implemented`, Code.Unimplemented);
            };
      routes.set(`/${service.typeName}/${method.name}`, {
        service,
        method,
        input: method.input,
        output: method.output,
        streaming: method.methodKind === "server_streaming",
        fn,
      });
    }
  }
  return routes;
}

/** True if `path` names a method of one of `services` (client- and bidi-streaming ones included). */
export function isServiceMethod(services: readonly RpcServiceBinding[], path: string): boolean {
  const slash = path.lastIndexOf("/");
  const svc = services.find((s) => `/${s.service.typeName}` === path.slice(0, slash));
  return svc !== undefined && svc.service.methods.some((m) => m.name === path.slice(slash + 1));
}

/** Incoming headers (HTTP/1.1 or HTTP/2) as Fetch Headers, pseudo-headers left out (as connect-node does). */
function toHeaders(h: Readonly<Record<string, string | string[] | undefined>>): Headers {
  const out = new Headers();
  for (const k in h) {
    if (k.charCodeAt(0) === 58 /* : */) continue;
    const v = h[k];
    if (typeof v === "string") out.append(k, v);
    else if (Array.isArray(v)) for (const x of v) out.append(k, x);
  }
  return out;
}

/**
 * Connect's HandlerContext, built lazily: the AbortController, the Headers and the context values
 * are created only if the handler touches them (each costs microseconds per call on Node 20).
 * The signal aborts on client cancel, on the deadline, and when the call completes (as Connect's does).
 */
export class FastContext implements HandlerContext {
  readonly requestMethod = "POST";
  readonly timeoutMs: () => number | undefined;
  private ac: AbortController | undefined;
  private aborted = false;
  private reason: unknown;
  private reqHeader: Headers | undefined;
  resHeader: Headers | undefined;
  resTrailer: Headers | undefined;
  private ctxValues: ContextValues | undefined;

  constructor(
    readonly service: DescService,
    readonly method: DescMethod,
    readonly protocolName: string,
    private readonly rawHeaders: Readonly<Record<string, string | string[] | undefined>>,
    private readonly path: string,
    deadline: number | undefined,
  ) {
    this.timeoutMs = deadline === undefined ? () => undefined : () => deadline - Date.now();
  }

  get signal(): AbortSignal {
    if (!this.ac) {
      this.ac = new AbortController();
      if (this.aborted) this.ac.abort(this.reason);
    }
    return this.ac.signal;
  }
  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.ac?.abort(reason);
  }
  get url(): string {
    const h = this.rawHeaders;
    return `http://${String(h[":authority"] ?? h.host ?? "localhost")}${this.path}`;
  }
  get requestHeader(): Headers {
    return (this.reqHeader ??= toHeaders(this.rawHeaders));
  }
  get responseHeader(): Headers {
    return (this.resHeader ??= new Headers());
  }
  get responseTrailer(): Headers {
    return (this.resTrailer ??= new Headers());
  }
  get values(): ContextValues {
    return (this.ctxValues ??= createContextValues());
  }
}

/** ConnectError as it is; anything else becomes INTERNAL "internal error" (Connect does the same). */
export function asConnectError(e: unknown): ConnectError {
  return e instanceof ConnectError ? e : new ConnectError("internal error", Code.Internal, undefined, undefined, e);
}

/** Runs a unary handler, calling back synchronously when it returns a value (no extra microtask). */
export function callUnary(fn: AnyFn, req: unknown, ctx: HandlerContext, ok: (res: unknown) => void, fail: (e: ConnectError) => void): void {
  let res: unknown;
  try {
    res = fn(req, ctx);
  } catch (e) {
    fail(asConnectError(e));
    return;
  }
  if (res !== null && typeof res === "object" && typeof (res as PromiseLike<unknown>).then === "function") {
    (res as PromiseLike<unknown>).then(ok, (e: unknown) => fail(asConnectError(e)));
  } else ok(res);
}
