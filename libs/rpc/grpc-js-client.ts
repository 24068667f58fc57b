// Mesh mode client on @grpc/grpc-js: the Connect `Client<S>` shape (callers don't change), but the
// wire work is done by grpc-js, which costs measurably less CPU per unary call than the Connect
// transport on Node (libs/rpc/client-bench.ts measures both). Servers stay Connect-ES; they speak gRPC.
import { fromBinary, type DescMessage, type DescMethod, type DescService } from "@bufbuild/protobuf";
import { encodeMessage } from "./wire.ts";
import { Code, ConnectError, type CallOptions, type Client } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { traceHeaders } from "#libs/tracing/tracing.ts";

/** Channel settings: keepalive well above the server's minimum ping interval, no message size cap (parity with Connect). */
const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  "grpc.keepalive_time_ms": 30_000,
  "grpc.keepalive_timeout_ms": 10_000,
  "grpc.keepalive_permit_without_calls": 0,
  "grpc.client_idle_timeout_ms": 300_000,
  "grpc.max_receive_message_length": -1,
  "grpc.max_send_message_length": -1,
  // Transparent retries buffer every message per call; the callers own their retry policies.
  "grpc.enable_retries": 0,
  "grpc.service_config_disable_resolution": 1,
  // Client-side balancing: one HTTP/2 connection per resolved address, calls spread round robin. With
  // a headless Service (deploy/k8s/base/*-headless) the DNS name resolves to every pod, so a replica
  // added by the HPA takes calls once the name is re-resolved (servers end connections after a while,
  // rpc-server.ts). Behind a ClusterIP there is one address: the same as pick_first.
  "grpc.service_config": JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
};

// One grpc-js client (one channel, one HTTP/2 connection) per address, shared by every service's client.
const channels = new Map<string, grpc.Client>();

/** "host:port", "http://host:port" or "https://host:port" → a grpc-js target and credentials. */
function channelFor(address: string): grpc.Client {
  let c = channels.get(address);
  if (!c) {
    const tls = address.startsWith("https://");
    // Only http(s):// is ours to strip; grpc-js resolves its own schemes (dns:///, ipv4:, unix:).
    const target = address.replace(/^https?:\/\//, "").replace(/\/+$/, "");
    c = new grpc.Client(target, tls ? grpc.credentials.createSsl() : grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
    channels.set(address, c);
  }
  return c;
}

/** Closes every shared channel (tests, shutdown). */
export function closeGrpcJsChannels(): void {
  for (const c of channels.values()) c.close();
  channels.clear();
}

type Serialize = (value: unknown) => Buffer;
type Deserialize = (bytes: Buffer) => unknown;

function serializer(schema: DescMessage): Serialize {
  return (value) => {
    const bytes = encodeMessage(schema, value);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

function deserializer(schema: DescMessage): Deserialize {
  return (bytes) => fromBinary(schema, bytes);
}

function metadataOf(opts: CallOptions | undefined): grpc.Metadata {
  const md = new grpc.Metadata();
  if (opts?.headers) new Headers(opts.headers).forEach((v, k) => md.add(k, v));
  // W3C trace context of the calling span (nothing when tracing is off).
  const carrier = traceHeaders();
  if (carrier) for (const [k, v] of Object.entries(carrier)) md.set(k, v);
  return md;
}

/** The caller's timeout, else the client's default: no call waits without a deadline on a stalled peer. */
function callOptionsOf(opts: CallOptions | undefined, defaultTimeoutMs: number | undefined): grpc.CallOptions {
  const ms = opts?.timeoutMs ?? defaultTimeoutMs;
  return ms !== undefined ? { deadline: Date.now() + ms } : {};
}

function headersOf(md: grpc.Metadata | undefined): Headers {
  const h = new Headers();
  if (!md) return h;
  for (const [k, v] of Object.entries(md.getMap())) if (typeof v === "string") h.append(k, v);
  return h;
}

const isServiceError = (e: unknown): e is grpc.ServiceError => e instanceof Error && typeof (e as { code?: unknown }).code === "number" && "details" in e;

/** grpc status codes and Connect codes share their numbers (1..16), so the code maps as it is. */
function toConnectError(e: unknown, signal: AbortSignal | undefined): ConnectError {
  if (signal?.aborted) return ConnectError.from(signal.reason, Code.Canceled);
  if (isServiceError(e)) {
    const code = e.code >= 1 && e.code <= 16 ? (e.code as number as Code) : Code.Unknown;
    return new ConnectError(e.details, code, headersOf(e.metadata), undefined, e);
  }
  return ConnectError.from(e, Code.Internal);
}

/**
 * grpc-js captures a caller stack (`new Error()`) on every call, only to decorate error messages; at
 * ~15 µs a call that is a large share of the client's CPU. The stack is skipped for the synchronous
 * start of the call only.
 */
function withoutStackCapture<T>(start: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return start();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

function unary(ch: grpc.Client, path: string, ser: Serialize, de: Deserialize, defaultTimeoutMs: number | undefined) {
  return (req: unknown, opts?: CallOptions): Promise<unknown> => {
    const signal = opts?.signal;
    if (signal?.aborted) return Promise.reject(ConnectError.from(signal.reason, Code.Canceled));
    return new Promise((resolve, reject) => {
      const md = metadataOf(opts);
      const co = callOptionsOf(opts, defaultTimeoutMs);
      const start = (attempt: number): void => {
        let onAbort: (() => void) | undefined;
        const call = withoutStackCapture(() =>
          ch.makeUnaryRequest(path, ser, de, req, md, co, (err, res) => {
            if (onAbort) signal?.removeEventListener("abort", onAbort);
            // A stream the server refused (it is draining: GOAWAY crossed our call) was never
            // processed: send it again (up to 3 times); round robin picks a
            // replica that is still serving.
            if (err && attempt < 3 && isRefusedStream(err) && !signal?.aborted) return start(attempt + 1);
            if (err) reject(toConnectError(err, signal));
            else resolve(res);
          }),
        );
        if (signal) {
          onAbort = () => call.cancel();
          signal.addEventListener("abort", onAbort, { once: true });
        }
        if (opts?.onHeader) {
          const onHeader = opts.onHeader;
          call.on("metadata", (md: grpc.Metadata) => onHeader(headersOf(md)));
        }
        if (opts?.onTrailer) {
          const onTrailer = opts.onTrailer;
          call.on("status", (s: grpc.StatusObject) => onTrailer(headersOf(s.metadata)));
        }
      };
      start(0);
    });
  };
}

/** grpc-js's status for an HTTP/2 REFUSED_STREAM: the server did not start the call. */
function isRefusedStream(err: grpc.ServiceError): boolean {
  return err.code === grpc.status.UNAVAILABLE && err.details === "Stream refused by server";
}

function serverStream(ch: grpc.Client, path: string, ser: Serialize, de: Deserialize, defaultTimeoutMs: number | undefined) {
  return (req: unknown, opts?: CallOptions): AsyncIterable<unknown> =>
    (async function* () {
      const signal = opts?.signal;
      if (signal?.aborted) throw ConnectError.from(signal.reason, Code.Canceled);
      const md = metadataOf(opts);
      const co = callOptionsOf(opts, defaultTimeoutMs);
      const call = withoutStackCapture(() => ch.makeServerStreamRequest(path, ser, de, req, md, co));
      const onAbort = () => call.cancel();
      signal?.addEventListener("abort", onAbort, { once: true });
      if (opts?.onHeader) {
        const onHeader = opts.onHeader;
        call.on("metadata", (md: grpc.Metadata) => onHeader(headersOf(md)));
      }
      if (opts?.onTrailer) {
        const onTrailer = opts.onTrailer;
        call.on("status", (s: grpc.StatusObject) => onTrailer(headersOf(s.metadata)));
      }
      let finished = false;
      try {
        for await (const msg of call as AsyncIterable<unknown>) yield msg;
        finished = true;
      } catch (e) {
        finished = true;
        throw toConnectError(e, signal);
      } finally {
        signal?.removeEventListener("abort", onAbort);
        // The consumer stopped early: end the call so the server stops producing.
        if (!finished) call.cancel();
      }
    })();
}

/**
 * A Connect `Client<S>` whose calls go over the shared grpc-js channel for `address`; every call gets
 * `defaultTimeoutMs` as its deadline unless the caller passes its own timeoutMs.
 */
export function createGrpcJsClient<S extends DescService>(service: S, address: string, opts: { defaultTimeoutMs?: number } = {}): Client<S> {
  const ch = channelFor(address);
  const client: Record<string, unknown> = {};
  for (const method of service.methods as readonly DescMethod[]) {
    const path = `/${service.typeName}/${method.name}`;
    const ser = serializer(method.input);
    const de = deserializer(method.output);
    if (method.methodKind === "unary") client[method.localName] = unary(ch, path, ser, de, opts.defaultTimeoutMs);
    else if (method.methodKind === "server_streaming") client[method.localName] = serverStream(ch, path, ser, de, opts.defaultTimeoutMs);
    else {
      const kind = method.methodKind;
      client[method.localName] = () => {
        throw new ConnectError(`${kind} RPCs are not supported by the grpc-js mesh client`, Code.Unimplemented);
      };
    }
  }
  return client as Client<S>;
}
