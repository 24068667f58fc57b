import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { create, toBinary, type DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client, type ServiceImpl, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Health, HealthCheckRequestSchema, HealthCheckResponse_ServingStatus as S } from "#libs/gen/grpc/health/v1/health_pb.ts";
import { RouterService } from "#libs/gen/llmgw/router/v1/router_pb.ts";
import { closeGrpcJsChannels, createGrpcJsClient } from "#libs/rpc/grpc-js-client.ts";
import { createFastRpcServer, rpcService } from "./grpc-fast-path.ts";
import { healthService } from "./health-service.ts";
import { serverCallCases } from "./rpc-server-cases.ts";
import { classifier, envelope, executor, memo, resetSeen, scripted, seen } from "./rpc-test-fixtures.ts";

beforeEach(() => resetSeen());

let server: http2.Http2Server;
let baseUrl = "";
let address = "";

beforeAll(async () => {
  server = createFastRpcServer([scripted, classifier, executor]);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  baseUrl = `http://${address}`;
});

afterAll(async () => {
  closeGrpcJsChannels();
  await new Promise<void>((r) => {
    server.close(() => r());
    setTimeout(r, 1_000).unref();
  });
});

type Kind = "grpc-js" | "connect-grpc" | "connect" | "grpc-web";
const transportFor = memo(
  (kind: Exclude<Kind, "grpc-js">): Transport =>
    kind === "connect-grpc"
      ? createGrpcTransport({ baseUrl })
      : kind === "connect"
        ? createConnectTransport({ baseUrl, httpVersion: "2" })
        : createGrpcWebTransport({ baseUrl, httpVersion: "2" }),
);
function clientFor<T extends DescService>(kind: Kind, service: T): Client<T> {
  return kind === "grpc-js" ? createGrpcJsClient(service, address) : createClient(service, transportFor(kind));
}

// grpc-js and Connect's gRPC transport take the fast path; Connect and gRPC-Web fall through to connectNodeAdapter.
describe.each<Kind>(["grpc-js", "connect-grpc", "connect", "grpc-web"])("through the %s client", (kind) => {
  const fast = kind === "grpc-js" || kind === "connect-grpc";

  serverCallCases(<T extends DescService>(service: T) => clientFor(kind, service), { protocol: fast ? "grpc" : kind, fast });
});

interface RawResult {
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders;
  status: string | undefined;
  message: string | undefined;
  body: Buffer;
}

/** A gRPC call by hand on a raw HTTP/2 stream: what exactly goes over the wire. */
async function raw(path: string, extra: http2.OutgoingHttpHeaders, body: Buffer, opts: { keepOpen?: boolean } = {}): Promise<RawResult> {
  const session = http2.connect(baseUrl);
  try {
    const req = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers", ...extra }, { endStream: false });
    const chunks: Buffer[] = [];
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    req.on("response", (h) => (headers = h));
    req.on("trailers", (t) => (trailers = t));
    req.on("data", (c: Buffer) => chunks.push(c));
    if (opts.keepOpen) req.write(body);
    else req.end(body);
    await new Promise<void>((resolve, reject) => {
      req.on("close", resolve);
      req.on("error", reject);
    });
    const status = (trailers["grpc-status"] ?? headers["grpc-status"]) as string | undefined;
    const message = (trailers["grpc-message"] ?? headers["grpc-message"]) as string | undefined;
    return { headers, trailers, status, message, body: Buffer.concat(chunks) };
  } finally {
    session.close();
  }
}

describe("the binary gRPC fast path on the wire", () => {
  const checkPath = "/grpc.health.v1.Health/Check";
  const okReq = () => envelope(toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, { service: "ok" })));

  it("answers with application/grpc+proto, one length-prefixed message and grpc-status 0 in trailers", async () => {
    const r = await raw(checkPath, {}, okReq());
    expect(r.headers[":status"]).toBe(200);
    expect(r.headers["content-type"]).toBe("application/grpc+proto");
    expect(r.trailers["grpc-status"]).toBe("0");
    expect(r.body[0]).toBe(0);
    expect(r.body.readUInt32BE(1)).toBe(r.body.length - 5);
  });

  it("answers unknown methods with a trailers-only UNIMPLEMENTED", async () => {
    const r = await raw("/grpc.health.v1.Health/Nope", {}, okReq());
    expect(r.headers["grpc-status"]).toBe(String(Code.Unimplemented));
    expect(r.body.length).toBe(0);
  });

  it("times out on the server with grpc-timeout even if the client never cancels", async () => {
    const req = envelope(toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, { service: "hang" })));
    const t0 = Date.now();
    const r = await raw(checkPath, { "grpc-timeout": "80m" }, req);
    expect(r.status).toBe(String(Code.DeadlineExceeded));
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect((await seen.aborted.promise) as ConnectError).toMatchObject({ code: Code.DeadlineExceeded });
  });

  it("rejects malformed requests with gRPC statuses", async () => {
    expect((await raw(checkPath, { "grpc-timeout": "soon" }, okReq())).status).toBe(String(Code.InvalidArgument));
    expect((await raw(checkPath, {}, Buffer.alloc(0))).status).toBe(String(Code.Unimplemented));
    expect((await raw(checkPath, {}, Buffer.concat([okReq(), okReq()]))).status).toBe(String(Code.Unimplemented));
    expect((await raw(checkPath, {}, okReq().subarray(0, 6))).status).toBe(String(Code.InvalidArgument));
    expect((await raw(checkPath, {}, envelope(new Uint8Array([0xff, 0xff])))).status).toBe(String(Code.InvalidArgument));
    expect((await raw(checkPath, {}, envelope(new Uint8Array([1]), 1))).status).toBe(String(Code.Internal));
  });

  it("resets the stream when the handler sets a header HTTP/2 forbids", async () => {
    const c = createGrpcJsClient(Health, address);
    const e = await c.check({ service: "bad-header" }).catch((x: unknown) => x);
    expect((e as ConnectError).code).toBe(Code.Internal);
  });

  it("enforces readMaxBytes", async () => {
    const s = createFastRpcServer([scripted], { readMaxBytes: 16 });
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
    const addr = `127.0.0.1:${(s.address() as AddressInfo).port}`;
    try {
      const c = createGrpcJsClient(Health, addr);
      expect((await c.check({ service: "ok" })).status).toBe(S.SERVING);
      const e = await c.check({ service: "x".repeat(100) }).catch((x: unknown) => x);
      expect((e as ConnectError).code).toBe(Code.ResourceExhausted);
    } finally {
      closeGrpcJsChannels();
      await new Promise<void>((r) => {
        s.close(() => r());
        setTimeout(r, 500).unref();
      });
    }
  });

  it("leaves gzip-compressed gRPC to Connect, which decompresses it", async () => {
    const { gzipSync } = await import("node:zlib");
    const msg = gzipSync(toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, { service: "ok" })));
    const r = await raw(checkPath, { "grpc-encoding": "gzip" }, envelope(msg, 1));
    expect(r.status).toBe("0");
    expect(seen.protocol).toBe("grpc");
  });

  it("serves the real grpc.health.v1 implementation", async () => {
    let draining = false;
    const s = createFastRpcServer([rpcService(Health, healthService(async () => true, () => draining))]);
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
    const addr = `127.0.0.1:${(s.address() as AddressInfo).port}`;
    try {
      const c = createGrpcJsClient(Health, addr);
      expect((await c.check({})).status).toBe(S.SERVING);
      draining = true;
      expect((await c.check({})).status).toBe(S.NOT_SERVING);
      for await (const m of c.watch({})) {
        expect(m.status).toBe(S.NOT_SERVING);
        break;
      }
    } finally {
      closeGrpcJsChannels();
      await new Promise<void>((r) => {
        s.close(() => r());
        setTimeout(r, 500).unref();
      });
    }
  });
});

describe("parity with the Connect server it replaces (through the grpc-js client)", () => {
  async function observe(addr: string): Promise<unknown[]> {
    const c = createGrpcJsClient(Health, addr);
    const out: unknown[] = [];
    const err = (e: unknown) => ({ code: (e as ConnectError).code, meta: (e as ConnectError).metadata.get("x-err-meta"), msg: (e as ConnectError).rawMessage });
    let h: Headers | undefined;
    let t: Headers | undefined;
    out.push(await c.check({ service: "headers" }, { onHeader: (x) => (h = x), onTrailer: (x) => (t = x) }));
    out.push([h?.get("x-res-h"), t?.get("x-res-t")]);
    out.push(await c.check({ service: "boom" }).catch(err));
    const missing = (await c.check({ service: "missing" }).catch(err)) as { code: Code; meta: string | null };
    out.push([missing.code, missing.meta]);
    const got: unknown[] = [];
    out.push(await (async () => {
      for await (const m of c.watch({ service: "fail-late" })) got.push(m);
    })().catch(err));
    out.push(got);
    out.push(await createGrpcJsClient(RouterService, addr).listModels({}).then(() => "ok", (e: unknown) => (e as ConnectError).code));
    return out;
  }

  it("gives the same results, and a grpc-message grpc-js can decode", async () => {
    const plain = http2.createServer(connectNodeAdapter({ routes: (r) => r.service(Health, scripted.impl as ServiceImpl<typeof Health>) }));
    await new Promise<void>((r) => plain.listen(0, "127.0.0.1", () => r()));
    const plainAddr = `127.0.0.1:${(plain.address() as AddressInfo).port}`;
    try {
      expect(await observe(address)).toEqual(await observe(plainAddr));
      // Connect percent-encodes grpc-message with encodeURIComponent; grpc-js decodes with decodeURI,
      // which leaves reserved characters encoded. The fast path uses gRPC's own percent-encoding.
      const viaConnect = await createGrpcJsClient(Health, plainAddr).check({ service: "missing" }).catch((e: unknown) => e);
      expect((viaConnect as ConnectError).rawMessage).toBe("no such service%3A a%2Fb%2C 100% ü");
      const viaFast = await createGrpcJsClient(Health, address).check({ service: "missing" }).catch((e: unknown) => e);
      expect((viaFast as ConnectError).rawMessage).toBe("no such service: a/b, 100% ü");
    } finally {
      closeGrpcJsChannels();
      await new Promise<void>((r) => {
        plain.close(() => r());
        setTimeout(r, 500).unref();
      });
    }
  });
});
