import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { silentLogger } from "#libs/log/logger.ts";
import type { EventPublisher } from "./deps.ts";
import { EventOutbox } from "./outbox.ts";

/** A publisher that records when each event was sent, and fails while `down` is set. */
function publisher() {
  const sent: { msgId: string; at: number }[] = [];
  const state = { down: false };
  const p: EventPublisher = {
    names: { stream: "S", prefix: "p" },
    async publish(_subject, _data, msgId) {
      if (state.down) throw new Error("broker down");
      sent.push({ msgId, at: performance.now() });
    },
  };
  return { p, sent, state };
}

const data = new Uint8Array([1]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("EventOutbox", () => {
  it("holds publishes for the burst window and sends them together, in order", async () => {
    const { p, sent } = publisher();
    const outbox = new EventOutbox(p, silentLogger(), new Registry(), { burstMs: 30 });
    const t0 = performance.now();
    outbox.publish("s", data, "a");
    outbox.publish("s", data, "b");
    expect(sent).toEqual([]);
    expect(outbox.pending()).toBe(2);
    await sleep(60);
    expect(sent.map((s) => s.msgId)).toEqual(["a", "b"]);
    expect((sent[0]?.at ?? 0) - t0).toBeGreaterThanOrEqual(25);
    expect(outbox.pending()).toBe(0);
  });

  it("sends a full burst at once", async () => {
    const { p, sent } = publisher();
    const outbox = new EventOutbox(p, silentLogger(), new Registry(), { burstMs: 60_000, maxBurst: 3 });
    for (const id of ["a", "b", "c"]) outbox.publish("s", data, id);
    await sleep(0);
    expect(sent.map((s) => s.msgId)).toEqual(["a", "b", "c"]);
    outbox.stop();
  });

  it("flush() sends a waiting burst without waiting for its window (drain)", async () => {
    const { p, sent } = publisher();
    const outbox = new EventOutbox(p, silentLogger(), new Registry(), { burstMs: 60_000 });
    outbox.publish("s", data, "a");
    expect(await outbox.flush(1_000)).toBe(true);
    expect(sent.map((s) => s.msgId)).toEqual(["a"]);
  });

  it("keeps what the broker refused and publishes it when the broker is back", async () => {
    const { p, sent, state } = publisher();
    const outbox = new EventOutbox(p, silentLogger(), new Registry(), { burstMs: 1, retryMs: 10 });
    state.down = true;
    outbox.publish("s", data, "a");
    outbox.publish("s", data, "b");
    await sleep(30);
    expect(sent).toEqual([]);
    expect(outbox.pending()).toBe(2);
    state.down = false;
    expect(await outbox.flush(1_000)).toBe(true);
    expect(sent.map((s) => s.msgId)).toEqual(["a", "b"]);
    outbox.stop();
  });

  it("with burstMs 0 sends each publish at once", async () => {
    const { p, sent } = publisher();
    const outbox = new EventOutbox(p, silentLogger(), new Registry(), { burstMs: 0 });
    outbox.publish("s", data, "a");
    await sleep(0);
    expect(sent.map((s) => s.msgId)).toEqual(["a"]);
  });
});
