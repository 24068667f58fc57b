// The in-process client's and the instrumentation's server-stream wrappers: what the async generators
// they replace did (lazy start, message per event, failure ends the stream, early return closes the
// handler's stream, one outcome reported).
import { create, isMessage } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { ExecuteRequestSchema, ExecuteResponseSchema, ExecutorService } from "#libs/gen/llmgw/executor/v1/executor_pb.ts";
import { createDirectClient } from "./direct-client.ts";
import { instrument } from "./instrument.ts";

interface Script {
  started: number;
  closed: number;
  fail?: Error;
}

/** An executor whose execute yields two events (an init object, then a message), then ends or fails. */
function executor(s: Script): ServiceImpl<typeof ExecutorService> {
  // The direct client wants every method; only execute is called here.
  const others = Object.fromEntries(ExecutorService.methods.map((m) => [m.localName, () => Promise.reject(new Error("not in this test"))]));
  return {
    ...others,
    async *execute() {
      s.started++;
      try {
        yield { event: { case: "completionJson" as const, value: new Uint8Array([1]) } };
        yield create(ExecuteResponseSchema, { event: { case: "completionJson", value: new Uint8Array([2]) } });
        if (s.fail) throw s.fail;
      } finally {
        s.closed++;
      }
    },
  } as unknown as ServiceImpl<typeof ExecutorService>;
}

function observed(): { calls: [string, string][]; observe(method: string, code: string): void } {
  const calls: [string, string][] = [];
  return { calls, observe: (method, code) => void calls.push([method, code]) };
}

const req = create(ExecuteRequestSchema, { purpose: "primary" });

describe("in-process server streams", () => {
  it("start on the first next(), give messages, end once", async () => {
    const s: Script = { started: 0, closed: 0 };
    const m = observed();
    const client = createDirectClient(ExecutorService, instrument(ExecutorService, executor(s), m));
    const stream = client.execute(req);
    expect(s.started).toBe(0);
    const got: number[] = [];
    for await (const ev of stream) {
      expect(isMessage(ev, ExecuteResponseSchema)).toBe(true);
      if (ev.event.case === "completionJson") got.push(ev.event.value[0] ?? -1);
    }
    expect(got).toEqual([1, 2]);
    expect(s).toEqual({ started: 1, closed: 1 });
    expect(m.calls).toEqual([["ExecutorService/Execute", "ok"]]);
    const it = stream[Symbol.asyncIterator]();
    expect(await it.next()).toEqual({ done: true, value: undefined });
  });

  it("a failure reaches the caller, ends the stream and is reported with its code", async () => {
    const s: Script = { started: 0, closed: 0, fail: new ConnectError("no", Code.Unavailable) };
    const m = observed();
    const it = createDirectClient(ExecutorService, instrument(ExecutorService, executor(s), m)).execute(req)[Symbol.asyncIterator]();
    await it.next();
    await it.next();
    await expect(it.next()).rejects.toThrow("no");
    expect(await it.next()).toEqual({ done: true, value: undefined });
    expect(m.calls).toEqual([["ExecutorService/Execute", String(Code.Unavailable)]]);
  });

  it("a caller that stops early closes the handler's stream, and nothing is reported", async () => {
    const s: Script = { started: 0, closed: 0 };
    const m = observed();
    for await (const _ of createDirectClient(ExecutorService, instrument(ExecutorService, executor(s), m)).execute(req)) break;
    expect(s).toEqual({ started: 1, closed: 1 });
    expect(m.calls).toEqual([]);
  });

  it("return() before the first next() never calls the handler", async () => {
    const s: Script = { started: 0, closed: 0 };
    const it = createDirectClient(ExecutorService, instrument(ExecutorService, executor(s), observed())).execute(req)[Symbol.asyncIterator]();
    expect(await it.return?.()).toEqual({ done: true, value: undefined });
    expect(await it.next()).toEqual({ done: true, value: undefined });
    expect(s.started).toBe(0);
  });
});
