import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { connect, ErrorCode, type NatsConnection, type NatsError } from "nats";
import { RequestOne } from "nats/lib/nats-base-client/request.js";
import { installNatsRequestFix } from "./nats-request-fix.ts";

const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";

describe("nats request fix", () => {
  let nc: NatsConnection;
  beforeAll(async () => {
    installNatsRequestFix();
    installNatsRequestFix(); // idempotent: patched once
    nc = await connect({ servers: NATS_URL, noAsyncTraces: true });
  });
  afterAll(async () => {
    await nc.close();
  });

  it("an answered request resolves and cleans up", async () => {
    const subject = `llmgw.test.fix.${process.pid}.${Date.now()}`;
    const sub = nc.subscribe(subject, { callback: (_e, m) => m.respond(m.data) });
    const cancel = vi.spyOn(RequestOne.prototype, "cancel");
    try {
      const answer = await nc.request(subject, new TextEncoder().encode("ping"), { timeout: 2000 });
      expect(new TextDecoder().decode(answer.data)).toBe("ping");
      // cancel() ran (the request cleaned up) without an error argument...
      expect(cancel).toHaveBeenCalledWith();
      // ...and the request's subscription entry is gone (the mux was told).
      const mux = (nc as unknown as { protocol: { muxSubscriptions: { size(): number } } }).protocol.muxSubscriptions;
      expect(mux.size()).toBe(0);
    } finally {
      cancel.mockRestore();
      sub.unsubscribe();
    }
  });

  it("the patched cancel() rejects nothing after an answer, and still rejects a request cancelled before one", async () => {
    const cancelled: unknown[] = [];
    const mux = { cancel: () => undefined };
    const answered = new RequestOne(mux as never, "s", { timeout: 1000 }, false);
    const rejectAnswered = vi.spyOn(answered.deferred, "reject");
    answered.resolver(null, {} as never);
    await expect(answered.deferred).resolves.toBeDefined();
    expect(rejectAnswered).not.toHaveBeenCalled();

    const unanswered = new RequestOne(mux as never, "s", { timeout: 1000 }, false);
    unanswered.deferred.catch((e: unknown) => cancelled.push(e));
    unanswered.cancel();
    await Promise.resolve();
    await Promise.resolve();
    expect((cancelled[0] as NatsError | undefined)?.code).toBe(ErrorCode.Cancelled);
  });

  it("a request nobody answers still fails as before", async () => {
    await expect(nc.request(`llmgw.test.none.${process.pid}`, new Uint8Array(), { timeout: 200 })).rejects.toMatchObject({ code: ErrorCode.NoResponders });
  });
});
