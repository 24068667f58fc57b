// Announcements reach every listener: in one process (embedded), and across NATS connections (the
// mesh: one connection per process), where nothing is stored in the events stream.
import { randomUUID } from "node:crypto";
import { connect, type NatsConnection } from "nats";
import { afterAll, describe, expect, it } from "vitest";
import { broadcastSubjects, decodeKeyRevoked, encodeKeyRevoked } from "./broadcast.ts";
import { MemoryEventBus } from "./memory-bus.ts";
import { NatsEventBus } from "./nats-bus.ts";

const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const names = { stream: `BCAST_${randomUUID().slice(0, 8)}`, prefix: `bcast${randomUUID().slice(0, 8)}.events` };
const conns: NatsConnection[] = [];

afterAll(async () => {
  const jsm = await conns[0]?.jetstreamManager();
  await jsm?.streams.delete(names.stream).catch(() => undefined);
  for (const c of conns) await c.close();
});

const waitFor = async (cond: () => boolean) => {
  const until = Date.now() + 5_000;
  while (!cond() && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
};

describe("broadcast", () => {
  it("in process: every listener of the bus hears it; a stopped one does not", async () => {
    const bus = new MemoryEventBus({ names });
    const subject = broadcastSubjects(names).keyRevoked;
    const heard: string[] = [];
    const stopA = bus.broadcast().listen(subject, (d) => heard.push(`a:${decodeKeyRevoked(d)}`));
    bus.broadcast().listen(subject, (d) => heard.push(`b:${decodeKeyRevoked(d)}`));
    new MemoryEventBus({ names }).broadcast().listen(subject, (d) => heard.push(`other-bus:${decodeKeyRevoked(d)}`));
    await bus.broadcast().announce(subject, encodeKeyRevoked("key_1"));
    stopA();
    await bus.broadcast().announce(subject, encodeKeyRevoked("key_2"));
    expect(heard).toEqual(["a:key_1", "b:key_1", "b:key_2"]);
  });

  it("over NATS: every connection hears it, and the events stream does not keep it", async () => {
    for (let i = 0; i < 3; i++) conns.push(await connect({ servers: NATS_URL }));
    const buses = await Promise.all(conns.map((c) => NatsEventBus.create(c, names)));
    const subject = broadcastSubjects(names).keyRevoked;
    const heard: string[] = [];
    buses.slice(1).forEach((b, i) => b.broadcast().listen(subject, (d) => heard.push(`${i}:${decodeKeyRevoked(d)}`)));
    await conns[1]!.flush();
    await conns[2]!.flush();
    await buses[0]!.broadcast().announce(subject, encodeKeyRevoked("key_9"));
    await waitFor(() => heard.length >= 2);
    expect(heard.sort()).toEqual(["0:key_9", "1:key_9"]);
    const info = await (await conns[0]!.jetstreamManager()).streams.info(names.stream);
    expect(info.state.messages).toBe(0);
  });

  it("a malformed announcement is ignored", () => {
    expect(decodeKeyRevoked(new TextEncoder().encode("not json"))).toBeUndefined();
    expect(decodeKeyRevoked(new TextEncoder().encode('{"key_id":""}'))).toBeUndefined();
  });
});
