import { randomBytes } from "node:crypto";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { connect, type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CostRecordedSchema, RequestCompletedSchema } from "#libs/gen/llmgw/events/v1/events_pb.ts";
import { MemoryEventBus } from "#libs/bus/memory-bus.ts";
import { NatsEventBus } from "#libs/bus/nats-bus.ts";
import { subjects, type BusNames } from "#libs/bus/subjects.ts";
import { loadPriceTable } from "#libs/pricing/price-table.ts";
import { LedgerWriter } from "../storage/ledger-writer.ts";
import { makeEvent, openTestDb, type TestDb } from "../storage/test-support.ts";
import { LedgerConsumer } from "./ledger-consumer.ts";

const NATS_URL = process.env.LLMGW_TEST_NATS_URL ?? "127.0.0.1:4222";
const prices = loadPriceTable();

async function countRows(db: TestDb): Promise<{ n: number; rollup: number }> {
  const r = await db.sql.query<{ n: number; rollup: number }>(
    "SELECT (SELECT count(*)::int FROM requests) AS n, (SELECT coalesce(sum(requests), 0)::int FROM spend_daily) AS rollup");
  return r.rows[0]!;
}

async function waitFor(cond: () => Promise<boolean>, what: string, limitMs = 40_000): Promise<void> {
  const until = Date.now() + limitMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const event = (i: number) =>
  toBinary(RequestCompletedSchema, makeEvent({ requestId: `req-${i}`, calls: [{ model: "gpt-4o-mini", usage: { inputTokens: 1000, outputTokens: 100 } }] }));

describe("ledger consumer on NATS JetStream + PostgreSQL", () => {
  const id = randomBytes(4).toString("hex");
  const names: BusNames = { stream: `LEDGER_TEST_${id}`, prefix: `ledgertest${id}.events` };
  let db: TestDb;
  let admin: NatsConnection;

  beforeAll(async () => {
    db = await openTestDb("pg");
    admin = await connect({ servers: NATS_URL });
  });
  afterAll(async () => {
    await (await admin.jetstreamManager()).streams.delete(names.stream).catch(() => false);
    await admin.close();
    await db?.close();
  });

  it("kill test: 10,000 events, consumer killed mid-way, each request exactly once", async () => {
    const bus0 = await NatsEventBus.create(admin, names, { storage: "memory" });
    const subj = subjects(names).requestCompleted;
    for (let start = 0; start < 10_000; start += 1_000) {
      await Promise.all(Array.from({ length: 1_000 }, (_, k) => bus0.publish(subj, event(start + k), `req-${start + k}`)));
    }
    // a retried publish of the same request is deduplicated by msgID
    await bus0.publish(subj, event(0), "req-0");

    const nc1 = await connect({ servers: NATS_URL });
    const c1 = new LedgerConsumer({ bus: await NatsEventBus.create(nc1, names), writer: new LedgerWriter(db.sql, prices), names, ackWaitMs: 1_500, maxBatch: 250 });
    await c1.start();
    await waitFor(async () => (await countRows(db)).n >= 3_000, "first consumer to write 3000 rows");
    await nc1.close(); // abrupt: no drain, in-flight batch unacknowledged
    const mid = (await countRows(db)).n;
    expect(mid).toBeLessThan(10_000);

    const nc2 = await connect({ servers: NATS_URL });
    const c2 = new LedgerConsumer({ bus: await NatsEventBus.create(nc2, names), writer: new LedgerWriter(db.sql, prices), names, ackWaitMs: 1_500, maxBatch: 500 });
    await c2.start();
    await waitFor(async () => (await countRows(db)).n >= 10_000, "second consumer to finish");
    await waitFor(async () => {
      const info = await (await admin.jetstreamManager()).consumers.info(names.stream, "ledger");
      return info.num_pending === 0 && info.num_ack_pending === 0;
    }, "all messages acknowledged");
    await c2.stop();
    await nc2.close();

    const rows = await countRows(db);
    expect(rows).toEqual({ n: 10_000, rollup: 10_000 });
    const cost = await db.sql.query<{ total: string }>("SELECT sum(cost_usd)::text AS total FROM requests");
    expect(cost.rows[0]?.total).toBe("2.100000000000"); // 10,000 x (1000*0.15 + 100*0.6)/1e6 = 10,000 x 0.00021

    // CostRecorded: one per request (msgID dedup across redeliveries)
    const jsm = await admin.jetstreamManager();
    const info = await jsm.streams.info(names.stream, { subjects_filter: subjects(names).costRecorded });
    expect(info.state.subjects?.[subjects(names).costRecorded]).toBe(10_000);
  });
});

describe("ledger consumer on the in-process bus + PGlite", () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openTestDb("pglite");
  });
  afterAll(async () => {
    await db?.close();
  });

  it("writes once, terminates poison messages, announces costs, resumes after restart", async () => {
    const names: BusNames = { stream: "MEM", prefix: "mem.events" };
    const bus = new MemoryEventBus();
    const subj = subjects(names);
    const costs: string[] = [];
    const costSub = await bus.subscribe({ durable: "costs", filterSubject: subj.costRecorded }, async (msgs) => {
      for (const m of msgs) {
        costs.push(fromBinary(CostRecordedSchema, m.data).costUsd);
        m.ack();
      }
    });
    const consumer = new LedgerConsumer({ bus, writer: new LedgerWriter(db.sql, prices), names });
    await consumer.start();
    for (let i = 0; i < 300; i++) await bus.publish(subj.requestCompleted, event(i), `req-${i}`);
    await bus.publish(subj.requestCompleted, event(5), "req-5"); // duplicate publish
    await bus.publish(subj.requestCompleted, new Uint8Array([0xff, 0xff, 0xff]), "garbage");
    await waitFor(async () => (await countRows(db)).n >= 300, "300 rows");
    await consumer.stop();
    // published while stopped: the durable keeps them
    for (let i = 300; i < 400; i++) await bus.publish(subj.requestCompleted, event(i), `req-${i}`);
    const again = new LedgerConsumer({ bus, writer: new LedgerWriter(db.sql, prices), names });
    await again.start();
    await waitFor(async () => (await countRows(db)).n >= 400, "400 rows");
    await waitFor(async () => costs.length >= 400, "400 CostRecorded");
    await again.stop();
    await costSub.stop();
    await bus.close();
    expect(await countRows(db)).toEqual({ n: 400, rollup: 400 });
    expect(new Set(costs)).toEqual(new Set(["0.00021"]));
  });
});
