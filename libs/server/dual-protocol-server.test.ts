import http from "node:http";
import type { AddressInfo } from "node:net";
import { create, fromBinary, toBinary, type DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Health, HealthCheckRequestSchema, HealthCheckResponseSchema, HealthCheckResponse_ServingStatus as S } from "#libs/gen/grpc/health/v1/health_pb.ts";
import { closeConnectH1Pools, createConnectH1Client } from "#libs/rpc/connect-h1-client.ts";
import { closeGrpcJsChannels, createGrpcJsClient } from "#libs/rpc/grpc-js-client.ts";
import { createDualRpcServer, type DualRpcServer } from "./dual-protocol-server.ts";
import { serverCallCases } from "./rpc-server-cases.ts";
import { classifier, envelope, executor, memo, resetSeen, scripted, seen } from "./rpc-test-fixtures.ts";

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
const transportFor = memo(
  (kind: Exclude<Kind, "grpc-js" | "connect-h1">): Transport =>
    kind === "connect-grpc"
      ? createGrpcTransport({ baseUrl })
      : kind === "grpc-web-h1"
        ? createGrpcWebTransport({ baseUrl, httpVersion: "1.1" })
        : createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: kind === "connect-es-h1" }),
);
function clientFor<T extends DescService>(kind: Kind, service: T): Client<T> {
  if (kind === "grpc-js") return createGrpcJsClient(service, address);
  if (kind === "connect-h1") return createConnectH1Client(service, address);
  return createClient(service, transportFor(kind));
}
const protocolOf: Record<Kind, string> = { "connect-h1": "connect", "connect-es-h1": "connect", "connect-es-h1-json": "connect", "grpc-web-h1": "grpc-web", "grpc-js": "grpc", "connect-grpc": "grpc" };

describe.each<Kind>(["connect-h1", "connect-es-h1", "connect-es-h1-json", "grpc-web-h1", "grpc-js", "connect-grpc"])("through the %s client", (kind) => {
  const fast = kind === "connect-h1" || kind === "connect-es-h1" || kind === "grpc-js" || kind === "connect-grpc";
  serverCallCases(<T extends DescService>(service: T) => clientFor(kind, service), { protocol: protocolOf[kind], fast });
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
