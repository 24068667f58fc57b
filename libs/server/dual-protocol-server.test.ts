import http from "node:http";
import type { AddressInfo } from "node:net";
import { create, fromBinary, toBinary, type DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Health, HealthCheckRequestSchema, HealthCheckResponseSchema, HealthCheckResponse_ServingStatus as S } from "#libs/gen/grpc/health/v1/health_pb.ts";
import { ClassifierService } from "#libs/gen/llmgw/classifier/v1/classifier_pb.ts";
import { Tier } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import { ExecutorService } from "#libs/gen/llmgw/executor/v1/executor_pb.ts";
import { RouterService } from "#libs/gen/llmgw/router/v1/router_pb.ts";
import { closeConnectH1Pools, createConnectH1Client } from "#libs/rpc/connect-h1-client.ts";
import { closeGrpcJsChannels, createGrpcJsClient } from "#libs/rpc/grpc-js-client.ts";
import { createDualRpcServer, type DualRpcServer } from "./dual-protocol-server.ts";
import { classifier, executor, resetSeen, scripted, seen } from "./rpc-test-fixtures.ts";

beforeEach(() => resetSeen());

let dual: DualRpcServer;
let address = "";
let baseUrl = "";

beforeAll(async () => {
  dual = createDualRpcServer([scripted, classifier, executor], { maxConnectionAgeMs: 400 });
  await new Promise<void>((r) => dual.server.listen(0, "127.0.0.1", () => r()));
  address = `127.0.0.1:${(dual.server.address() as AddressInfo).port}`;
  baseUrl = `http://${address}`;
});

afterAll(async () => {
  closeGrpcJsChannels();
  await closeConnectH1Pools();
  await dual.stop(1_000);
});

// One port, every client: Connect binary over HTTP/1.1 (ours and Connect-ES's) and gRPC over HTTP/2
// take the fast paths; Connect JSON and gRPC-Web over HTTP/1.1 fall through to connectNodeAdapter.
type Kind = "connect-h1" | "connect-es-h1" | "connect-es-h1-json" | "grpc-web-h1" | "grpc-js" | "connect-grpc";
const transports = new Map<Kind, Transport>();
function transportFor(kind: Exclude<Kind, "grpc-js" | "connect-h1">): Transport {
  let t = transports.get(kind);
  if (!t) {
    t =
      kind === "connect-grpc"
        ? createGrpcTransport({ baseUrl })
        : kind === "grpc-web-h1"
          ? createGrpcWebTransport({ baseUrl, httpVersion: "1.1" })
          : createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: kind === "connect-es-h1" });
    transports.set(kind, t);
  }
  return t;
}
function clientFor<T extends DescService>(kind: Kind, service: T): Client<T> {
  if (kind === "grpc-js") return createGrpcJsClient(service, address);
  if (kind === "connect-h1") return createConnectH1Client(service, address);
  return createClient(service, transportFor(kind));
}
const protocolOf: Record<Kind, string> = { "connect-h1": "connect", "connect-es-h1": "connect", "connect-es-h1-json": "connect", "grpc-web-h1": "grpc-web", "grpc-js": "grpc", "connect-grpc": "grpc" };

describe.each<Kind>(["connect-h1", "connect-es-h1", "connect-es-h1-json", "grpc-web-h1", "grpc-js", "connect-grpc"])("through the %s client", (kind) => {
  it("serves unary calls with request headers and the deadline in the HandlerContext", async () => {
    const c = clientFor(kind, Health);
    const res = await c.check({ service: "ok" }, { headers: { "x-test": "hello" }, timeoutMs: 5_000 });
    expect(res.status).toBe(S.SERVING);
    expect(seen.header).toBe("hello");
    expect(seen.timeout).toBeGreaterThan(4_000);
    expect(seen.timeout).toBeLessThanOrEqual(5_000);
    expect(seen.protocol).toBe(protocolOf[kind]);
    const cl = clientFor(kind, ClassifierService);
    const r = await cl.classify({ messages: [{ role: "user", content: "x" }] });
    expect([r.tier, r.category, r.features, r.reasons]).toEqual([Tier.HIGH, "code", { n: "1" }, ["r1", "r2"]]);
  });

  it("sends the handler's response headers and trailers", async () => {
    const c = clientFor(kind, Health);
    let header: Headers | undefined;
    let trailer: Headers | undefined;
    const res = await c.check({ service: "headers" }, { onHeader: (h) => (header = h), onTrailer: (t) => (trailer = t) });
    expect(res.status).toBe(S.NOT_SERVING);
    expect(header?.get("x-res-h")).toBe("h1");
    expect(trailer?.get("x-res-t")).toBe("t1");
  });

  it("maps ConnectError to the status code, message and metadata; other errors to INTERNAL", async () => {
    const c = clientFor(kind, Health);
    const e1 = await c.check({ service: "missing" }).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(ConnectError);
    expect((e1 as ConnectError).code).toBe(Code.NotFound);
    expect((e1 as ConnectError).rawMessage).toBe("no such service: a/b, 100% ü");
    expect((e1 as ConnectError).metadata.get("x-err-meta")).toBe("m1");
    const e2 = await c.check({ service: "boom" }).catch((e: unknown) => e);
    expect((e2 as ConnectError).code).toBe(Code.Internal);
    expect((e2 as ConnectError).rawMessage).not.toContain("secret");
  });

  it("answers UNIMPLEMENTED for unknown services and for methods the impl lacks", async () => {
    const router = clientFor(kind, RouterService);
    const e1 = await router.listModels({}).catch((e: unknown) => e);
    expect((e1 as ConnectError).code).toBe(Code.Unimplemented);
    const ex = clientFor(kind, ExecutorService);
    expect((await ex.getHealth({})).deployments).toEqual([]);
    const e2 = await ex.getBatch({}).catch((e: unknown) => e);
    expect((e2 as ConnectError).code).toBe(Code.Unimplemented);
    const e3 = await (async () => {
      for await (const _ of ex.execute({})) void _;
    })().catch((e: unknown) => e);
    expect((e3 as ConnectError).code).toBe(Code.Unimplemented);
  });

  it("streams server messages with headers and trailers, and maps errors before and after the first message", async () => {
    const c = clientFor(kind, Health);
    const got: S[] = [];
    let header: Headers | undefined;
    let trailer: Headers | undefined;
    for await (const m of c.watch({ service: "ok" }, { onHeader: (h) => (header = h), onTrailer: (t) => (trailer = t) })) got.push(m.status);
    expect(got).toEqual([S.SERVING, S.SERVING, S.SERVING]);
    expect(header?.get("x-res-h")).toBe("stream");
    expect(trailer?.get("x-res-t")).toBe("done");

    const late: S[] = [];
    const e1 = await (async () => {
      for await (const m of c.watch({ service: "fail-late" })) late.push(m.status);
    })().catch((e: unknown) => e);
    expect(late).toHaveLength(3);
    expect((e1 as ConnectError).code).toBe(Code.Unavailable);
    expect((e1 as ConnectError).rawMessage).toBe("lost it");

    const e2 = await (async () => {
      for await (const _ of c.watch({ service: "fail-early" })) void _;
    })().catch((e: unknown) => e);
    expect((e2 as ConnectError).code).toBe(Code.FailedPrecondition);
  });

  it("aborts the handler's signal when the client cancels a unary call", async () => {
    const c = clientFor(kind, Health);
    const ac = new AbortController();
    const p = c.check({ service: "hang" }, { signal: ac.signal }).catch((e: unknown) => e);
    await seen.started.promise;
    ac.abort();
    expect(((await p) as ConnectError).code).toBe(Code.Canceled);
    await seen.aborted.promise;
  });

  it("stops a server stream when the consumer stops reading", async () => {
    const c = clientFor(kind, Health);
    let n = 0;
    const ac = new AbortController();
    for await (const _ of c.watch({ service: "endless" }, { signal: ac.signal })) if (++n === 6) break;
    ac.abort();
    expect(n).toBe(6);
    expect(await seen.streamClosed.promise).toBe(true);
    expect((await c.check({ service: "ok" })).status).toBe(S.SERVING);
  });

  it("turns an expired deadline into DEADLINE_EXCEEDED and aborts the handler", async () => {
    const c = clientFor(kind, Health);
    const e = await c.check({ service: "hang" }, { timeoutMs: 100 }).catch((x: unknown) => x);
    expect((e as ConnectError).code).toBe(Code.DeadlineExceeded);
    await seen.aborted.promise;
  });
});

interface H1Result {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A Connect call by hand over HTTP/1.1: what exactly goes over the wire. */
function post(path: string, headers: http.OutgoingHttpHeaders, body: Buffer, agent?: http.Agent): Promise<H1Result> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${baseUrl}${path}`, { method: "POST", headers, ...(agent ? { agent } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

function envelope(msg: Uint8Array, flags = 0): Buffer {
  const b = Buffer.alloc(5 + msg.byteLength);
  b[0] = flags;
  b.writeUInt32BE(msg.byteLength, 1);
  b.set(msg, 5);
  return b;
}

/** Enveloped messages of a Connect stream response. */
function envelopes(b: Buffer): { flags: number; data: Buffer }[] {
  const out: { flags: number; data: Buffer }[] = [];
  for (let i = 0; i + 5 <= b.length; ) {
    const len = b.readUInt32BE(i + 1);
    out.push({ flags: b[i] as number, data: b.subarray(i + 5, i + 5 + len) });
    i += 5 + len;
  }
  return out;
}

describe("the Connect fast path on the wire (HTTP/1.1)", () => {
  const checkPath = "/grpc.health.v1.Health/Check";
  const watchPath = "/grpc.health.v1.Health/Watch";
  const msg = (service: string) => Buffer.from(toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, { service })));

  it("answers unary calls with 200 application/proto and the bare message; an empty body is the empty message", async () => {
    const r = await post(checkPath, { "content-type": "application/proto" }, msg("ok"));
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toBe("application/proto");
    expect(fromBinary(HealthCheckResponseSchema, r.body).status).toBe(S.SERVING);
    const empty = await post(checkPath, { "content-type": "application/proto" }, Buffer.alloc(0));
    expect(empty.status).toBe(200);
  });

  it("answers unary errors with the HTTP status of the code and a JSON body", async () => {
    const r = await post(checkPath, { "content-type": "application/proto" }, msg("missing"));
    expect(r.status).toBe(404);
    expect(r.headers["content-type"]).toBe("application/json");
    expect(r.headers["x-err-meta"]).toBe("m1");
    expect(JSON.parse(r.body.toString())).toEqual({ code: "not_found", message: "no such service: a/b, 100% ü" });
    const bad = await post(checkPath, { "content-type": "application/proto" }, Buffer.from([0xff, 0xff, 0xff]));
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body.toString()).code).toBe("invalid_argument");
  });

  it("honours connect-timeout-ms on the server and rejects a malformed one", async () => {
    const r = await post(checkPath, { "content-type": "application/proto", "connect-timeout-ms": "100" }, msg("hang"));
    expect(r.status).toBe(504);
    expect(JSON.parse(r.body.toString()).code).toBe("deadline_exceeded");
    await seen.aborted.promise;
    const bad = await post(checkPath, { "content-type": "application/proto", "connect-timeout-ms": "1s" }, msg("ok"));
    expect(bad.status).toBe(400);
  });

  it("streams enveloped messages and ends with an end-of-stream message (flag 2), errors included", async () => {
    const ok = await post(watchPath, { "content-type": "application/connect+proto" }, envelope(msg("ok")));
    expect(ok.status).toBe(200);
    expect(ok.headers["content-type"]).toBe("application/connect+proto");
    const es = envelopes(ok.body);
    expect(es.map((e) => e.flags)).toEqual([0, 0, 0, 2]);
    expect(JSON.parse(es[3]!.data.toString())).toEqual({ metadata: { "x-res-t": ["done"] } });
    const failed = await post(watchPath, { "content-type": "application/connect+proto" }, envelope(msg("fail-early")));
    expect(failed.status).toBe(200);
    const fe = envelopes(failed.body);
    expect(fe).toHaveLength(1);
    expect(JSON.parse(fe[0]!.data.toString())).toEqual({ error: { code: "failed_precondition", message: "gone" } });
  });

  it("ends HTTP/1.1 connections after their maximum age with connection: close", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await post(checkPath, { "content-type": "application/proto" }, msg("ok"), agent);
      expect(first.headers.connection).toBe("keep-alive");
      await new Promise((r) => setTimeout(r, 500));
      const late = await post(checkPath, { "content-type": "application/proto" }, msg("ok"), agent);
      expect(late.headers.connection).toBe("close");
    } finally {
      agent.destroy();
    }
  });
});

describe("draining", () => {
  it("lets in-flight HTTP/1.1 and HTTP/2 calls finish, closes idle connections, refuses new ones", async () => {
    const d = createDualRpcServer([scripted]);
    await new Promise<void>((r) => d.server.listen(0, "127.0.0.1", () => r()));
    const addr = `127.0.0.1:${(d.server.address() as AddressInfo).port}`;
    const h1 = createConnectH1Client(Health, addr);
    const h2 = createGrpcJsClient(Health, addr);
    await Promise.all([h1.check({ service: "ok" }), h2.check({ service: "ok" })]);
    // A stream in flight on each protocol (its first message is in) when the server starts draining.
    const firstIn: Promise<void>[] = [];
    const read = (c: Client<typeof Health>) => {
      let first!: () => void;
      firstIn.push(new Promise<void>((r) => (first = r)));
      return (async () => {
        let n = 0;
        for await (const _ of c.watch({ service: "slow" })) if (++n === 1) first();
        return n;
      })();
    };
    const slow1 = read(h1);
    const slow2 = read(h2);
    await Promise.all(firstIn);
    const stopped = d.stop(2_000);
    expect(await slow1).toBe(3);
    expect(await slow2).toBe(3);
    await stopped;
    const after = await h1.check({ service: "ok" }, { timeoutMs: 1_000 }).catch((e: unknown) => e);
    expect((after as ConnectError).code).toBe(Code.Unavailable);
  });
});
