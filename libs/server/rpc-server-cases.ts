// The call cases every RPC server path must pass, whichever client reaches it: the gRPC fast path
// (grpc-fast-path.test.ts) and the dual-protocol port (dual-protocol-server.test.ts) run them for
// each of their clients. Behaviour is scripted by rpc-test-fixtures.ts.
import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as S } from "#libs/gen/grpc/health/v1/health_pb.ts";
import { ClassifierService } from "#libs/gen/llmgw/classifier/v1/classifier_pb.ts";
import { Tier } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import { ExecutorService } from "#libs/gen/llmgw/executor/v1/executor_pb.ts";
import { RouterService } from "#libs/gen/llmgw/router/v1/router_pb.ts";
import { seen } from "./rpc-test-fixtures.ts";

export interface CaseClient {
  <T extends DescService>(service: T): Client<T>;
}

/**
 * Registers the shared cases in the current describe block. `protocol`: the protocolName the
 * handler sees; `fast`: the call takes a fast path (its cancel reason is checked too).
 */
export function serverCallCases(clientFor: CaseClient, expected: { protocol: string; fast: boolean }): void {
  it("serves unary calls with request headers and the deadline in the HandlerContext", async () => {
    const c = clientFor(Health);
    const res = await c.check({ service: "ok" }, { headers: { "x-test": "hello" }, timeoutMs: 5_000 });
    expect(res.status).toBe(S.SERVING);
    expect(seen.header).toBe("hello");
    expect(seen.timeout).toBeGreaterThan(4_000);
    expect(seen.timeout).toBeLessThanOrEqual(5_000);
    expect(seen.protocol).toBe(expected.protocol);
    const cl = clientFor(ClassifierService);
    const r = await cl.classify({ messages: [{ role: "user", content: "x" }] });
    expect([r.tier, r.category, r.features, r.reasons]).toEqual([Tier.HIGH, "code", { n: "1" }, ["r1", "r2"]]);
  });

  it("sends the handler's response headers and trailers", async () => {
    const c = clientFor(Health);
    let header: Headers | undefined;
    let trailer: Headers | undefined;
    const res = await c.check({ service: "headers" }, { onHeader: (h) => (header = h), onTrailer: (t) => (trailer = t) });
    expect(res.status).toBe(S.NOT_SERVING);
    expect(header?.get("x-res-h")).toBe("h1");
    expect(trailer?.get("x-res-t")).toBe("t1");
  });

  it("maps ConnectError to the status code, message and metadata; other errors to INTERNAL", async () => {
    const c = clientFor(Health);
    let trailer: Headers | undefined;
    const e1 = await c.check({ service: "missing" }, { onTrailer: (t) => (trailer = t) }).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(ConnectError);
    expect((e1 as ConnectError).code).toBe(Code.NotFound);
    expect((e1 as ConnectError).rawMessage).toBe("no such service: a/b, 100% ü");
    // Error metadata: on the error, or (some clients over HTTP/2) in the trailers.
    expect((e1 as ConnectError).metadata.get("x-err-meta") ?? trailer?.get("x-err-meta")).toBe("m1");
    const e2 = await c.check({ service: "boom" }).catch((e: unknown) => e);
    expect((e2 as ConnectError).code).toBe(Code.Internal);
    expect((e2 as ConnectError).rawMessage).not.toContain("secret");
  });

  it("answers UNIMPLEMENTED for unknown services and for methods the impl lacks", async () => {
    const router = clientFor(RouterService);
    const e1 = await router.listModels({}).catch((e: unknown) => e);
    expect((e1 as ConnectError).code).toBe(Code.Unimplemented);
    const executor = clientFor(ExecutorService);
    expect((await executor.getHealth({})).deployments).toEqual([]);
    const e2 = await executor.getBatch({}).catch((e: unknown) => e);
    expect((e2 as ConnectError).code).toBe(Code.Unimplemented);
    const e3 = await (async () => {
      for await (const _ of executor.execute({})) void _;
    })().catch((e: unknown) => e);
    expect((e3 as ConnectError).code).toBe(Code.Unimplemented);
  });

  it("streams server messages with headers and trailers, and maps errors before and after the first message", async () => {
    const c = clientFor(Health);
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
    const c = clientFor(Health);
    const ac = new AbortController();
    const p = c.check({ service: "hang" }, { signal: ac.signal }).catch((e: unknown) => e);
    await seen.started.promise;
    ac.abort();
    expect(((await p) as ConnectError).code).toBe(Code.Canceled);
    const reason = await seen.aborted.promise;
    if (expected.fast) expect((reason as ConnectError).code).toBe(Code.Canceled);
  });

  it("stops a server stream when the consumer stops reading", async () => {
    const c = clientFor(Health);
    let n = 0;
    // The grpc-js client cancels the call on break; Connect's clients need the signal for that.
    const ac = new AbortController();
    for await (const _ of c.watch({ service: "endless" }, { signal: ac.signal })) if (++n === 6) break;
    ac.abort();
    expect(n).toBe(6);
    expect(await seen.streamClosed.promise).toBe(true);
    // The connection is still usable.
    expect((await c.check({ service: "ok" })).status).toBe(S.SERVING);
  });

  it("turns an expired deadline into DEADLINE_EXCEEDED and aborts the handler", async () => {
    const c = clientFor(Health);
    const e = await c.check({ service: "hang" }, { timeoutMs: 100 }).catch((x: unknown) => x);
    expect((e as ConnectError).code).toBe(Code.DeadlineExceeded);
    await seen.aborted.promise;
  });
}
