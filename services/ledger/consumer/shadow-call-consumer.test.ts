// ShadowCallConsumer on the embedded ledger (PGlite in its worker, the real migrations): a cache audit's
// ShadowEvaluated carries two provider calls (the replay and its baseline) and both are recorded once,
// as unbilled shadow calls of the audited request; a call for a request not yet in the ledger waits.
import { create, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { BusMessage } from "#libs/bus/event-bus.ts";
import { MemoryEventBus } from "#libs/bus/memory-bus.ts";
import { ShadowEvaluatedSchema } from "#libs/gen/llmgw/events/v1/events_pb.ts";
import { loadPriceTable } from "#libs/pricing/price-table.ts";
import { LedgerWriter } from "../storage/ledger-writer.ts";
import { ShadowCallWriter } from "../storage/shadow-call-writer.ts";
import { makeEvent, openTestDb, type TestDb } from "../storage/test-support.ts";
import { ShadowCallConsumer } from "./shadow-call-consumer.ts";

const prices = loadPriceTable();
let db: TestDb;
let consumer: ShadowCallConsumer;

beforeAll(async () => {
  db = await openTestDb("pglite");
  consumer = new ShadowCallConsumer(new MemoryEventBus(), new ShadowCallWriter(db.sql, prices));
  await new LedgerWriter(db.sql, prices).writeBatch([makeEvent({ requestId: "audited", calls: [] })]);
});
afterAll(async () => {
  await db?.close();
});

const call = (callId: string) => ({ callId, kind: "shadow", model: "gpt-4o-mini", provider: "openai", status: "ok", latencyMs: 5n, usage: { inputTokens: 100n, outputTokens: 20n }, startedAt: "2025-10-15T12:00:01.000Z" });

function evaluated(requestId: string): BusMessage & { ack: ReturnType<typeof vi.fn>; nak: ReturnType<typeof vi.fn> } {
  const ev = create(ShadowEvaluatedSchema, { context: { requestId }, cacheAudit: true, cacheBaseline: true, cacheBaselineOk: true, call: call(`${requestId}:shadow`), baselineCall: call(`${requestId}:shadow-baseline`) });
  return { subject: "x", data: toBinary(ShadowEvaluatedSchema, ev), deliveryCount: 1, ack: vi.fn(), nak: vi.fn(), term: vi.fn() };
}

describe("ShadowCallConsumer", () => {
  it("records a cache audit's replay and its baseline as two unbilled shadow calls, once", async () => {
    const first = evaluated("audited");
    await consumer.handle(first);
    await consumer.handle(evaluated("audited")); // redelivered
    expect(first.ack).toHaveBeenCalledOnce();
    const rows = await db.sql.query<{ call_id: string; kind: string; billed: boolean; cost_usd: string }>("SELECT call_id, kind, billed, cost_usd::text AS cost_usd FROM calls WHERE request_id = 'audited' ORDER BY call_id");
    expect(rows.rows.map((r) => [r.call_id, r.kind, r.billed])).toEqual([
      ["audited:shadow", "shadow", false],
      ["audited:shadow-baseline", "shadow", false],
    ]);
    expect(Number(rows.rows[0]?.cost_usd)).toBeGreaterThan(0);
  });

  it("waits (nak) while the request is not in the ledger yet", async () => {
    const early = evaluated("not-yet");
    await consumer.handle(early);
    expect(early.nak).toHaveBeenCalledWith(1_000);
    expect(early.ack).not.toHaveBeenCalled();
  });
});
