// Services with scripted behaviour for the RPC server tests (both fast paths and the fall-through):
// a real generated service (grpc.health.v1) driven by the request's `service` field, and more services.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { Health, HealthCheckResponseSchema, HealthCheckResponse_ServingStatus as S } from "#libs/gen/grpc/health/v1/health_pb.ts";
import { ClassifierService } from "#libs/gen/llmgw/classifier/v1/classifier_pb.ts";
import { Tier } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import { ExecutorService } from "#libs/gen/llmgw/executor/v1/executor_pb.ts";
import { rpcService } from "./rpc-routes.ts";

interface Deferred<T = void> {
  promise: Promise<T>;
  resolve: (v: T) => void;
}
function deferred<T = void>(): Deferred<T> {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

// What the server saw, reset before each test (resetSeen).
interface Seen {
  header?: string | null;
  timeout?: number | undefined;
  protocol?: string;
  started: Deferred;
  aborted: Deferred<unknown>;
  streamClosed: Deferred<boolean>;
}
export const seen: Seen = { started: deferred(), aborted: deferred<unknown>(), streamClosed: deferred<boolean>() };
export function resetSeen(): void {
  for (const k of ["header", "timeout", "protocol"] as const) delete seen[k];
  Object.assign(seen, { started: deferred(), aborted: deferred<unknown>(), streamClosed: deferred<boolean>() });
}

const waitForAbort = (ctx: HandlerContext) =>
  new Promise<void>((r) => {
    const t = setTimeout(r, 5_000);
    ctx.signal.addEventListener("abort", () => (clearTimeout(t), seen.aborted.resolve(ctx.signal.reason), r()), { once: true });
  });

// A real generated service (grpc.health.v1) with behaviour scripted by the request's `service` field.
export const scripted = rpcService(Health, {
  async check(req, ctx) {
    seen.header = ctx.requestHeader.get("x-test");
    seen.timeout = ctx.timeoutMs();
    seen.protocol = ctx.protocolName;
    switch (req.service) {
      case "missing":
        throw new ConnectError("no such service: a/b, 100% ü", Code.NotFound, { "x-err-meta": "m1" });
      case "boom":
        throw new Error("secret internals");
      case "hang":
        seen.started.resolve();
        await waitForAbort(ctx);
        return { status: S.UNKNOWN };
      case "bad-header":
        ctx.responseHeader.set("connection", "close");
        return { status: S.SERVING };
      case "headers":
        ctx.responseHeader.set("x-res-h", "h1");
        ctx.responseTrailer.set("x-res-t", "t1");
        return create(HealthCheckResponseSchema, { status: S.NOT_SERVING });
      default:
        return { status: S.SERVING };
    }
  },
  async *watch(req, ctx) {
    if (req.service === "fail-early") throw new ConnectError("gone", Code.FailedPrecondition);
    ctx.responseHeader.set("x-res-h", "stream");
    ctx.responseTrailer.set("x-res-t", "done");
    for (let i = 0; i < 3; i++) {
      if (req.service === "slow" && i > 0) await new Promise((r) => setTimeout(r, 100));
      yield { status: S.SERVING };
    }
    if (req.service === "fail-late") throw new ConnectError("lost it", Code.Unavailable);
    if (req.service === "endless") {
      seen.started.resolve();
      try {
        while (!ctx.signal.aborted) {
          yield { status: S.NOT_SERVING };
          await new Promise<void>((r) => setTimeout(r, 2));
        }
        seen.aborted.resolve(ctx.signal.reason);
      } finally {
        seen.streamClosed.resolve(ctx.signal.aborted);
      }
    }
  },
});

// More services on the same port; the executor is partly implemented (the rest answers UNIMPLEMENTED).
export const executor = rpcService(ExecutorService, {
  async getHealth() {
    return { deployments: [] };
  },
});
export const classifier = rpcService(ClassifierService, {
  async classify(req) {
    return { tier: Tier.HIGH, category: "code", confidence: 0.9, features: { n: String(req.messages.length) }, reasons: ["r1", "r2"], classifier: "rules" };
  },
});

/** `msg` in the 5-byte envelope gRPC and Connect streaming share, built by hand for wire tests. */
export function envelope(msg: Uint8Array, flags = 0): Buffer {
  const b = Buffer.alloc(5 + msg.byteLength);
  b[0] = flags;
  b.writeUInt32BE(msg.byteLength, 1);
  b.set(msg, 5);
  return b;
}

/** `make(key)`, made once per key (the tests' client transports). */
export function memo<K, V>(make: (key: K) => V): (key: K) => V {
  const made = new Map<K, V>();
  return (key) => {
    let v = made.get(key);
    if (v === undefined) made.set(key, (v = make(key)));
    return v;
  };
}
