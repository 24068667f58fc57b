import { Decimal } from "decimal.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadPriceTable } from "#libs/pricing/price-table.ts";
import { LedgerWriter } from "./ledger-writer.ts";
import { SpendReport } from "./spend-report.ts";
import { makeEvent, openTestDb, type EventSpec, type TestDb } from "./test-support.ts";

const prices = loadPriceTable();

// Each case: the event and its cost/baseline/savings split computed by hand from list prices
// per 1M tokens (see deploy/config/prices.yaml). [cost, baseline, cache, routing, cascade, batch]
type Money = [cost: string, baseline: string, cache: string, routing: string, cascade: string, batch: string];
const MIX: Array<{ spec: EventSpec; want: Money; unpriced?: boolean }> = [
  // routed to gpt-4o-mini: 1000*0.15 + 500*0.60 = 450; baseline gpt-4o 1000*2.5 + 500*10 = 7500
  { spec: { requestId: "r1", calls: [{ model: "gpt-4o-mini", usage: { inputTokens: 1000, outputTokens: 500 } }] },
    want: ["0.00045", "0.0075", "0", "0.00705", "0", "0"] },
  // streamed, OpenAI cached tokens: 200*2.5 + 1800*1.25 + 100*10 = 3750
  { spec: { requestId: "r2", stream: true, calls: [{ model: "gpt-4o", usage: { inputTokens: 200, cachedInputTokens: 1800, outputTokens: 100 } }] },
    want: ["0.00375", "0.00375", "0", "0", "0", "0"] },
  // Anthropic cache writes once: 10*3 + 2000*3.75 + 1000*6 + 100*15 = 15030; opus 150 + 37500 + 30000 + 7500 = 75150
  { spec: { requestId: "r3", baselineModel: "claude-opus-4-1",
    calls: [{ model: "claude-sonnet-4-5", provider: "anthropic", usage: { inputTokens: 10, cacheWrite5mTokens: 2000, cacheWrite1hTokens: 1000, outputTokens: 100 } }] },
    want: ["0.01503", "0.07515", "0", "0.06012", "0", "0"] },
  // cascade escalated, pays both: small-8k 500*0.05 + 200*0.2 = 65; gpt-4.1 500*2 + 300*8 = 3400
  { spec: { requestId: "r4", cascaded: true, escalated: true, baselineModel: "gpt-4.1", calls: [
    { kind: "cascade_first", model: "small-8k", provider: "simulator", usage: { inputTokens: 500, outputTokens: 200 } },
    { kind: "escalation", model: "gpt-4.1", usage: { inputTokens: 500, outputTokens: 300 } }] },
    want: ["0.003465", "0.0034", "0", "0", "-0.000065", "0"] },
  // cascade accepted: 1000*0.05 + 400*0.2 = 130; baseline gpt-4.1 2000 + 3200 = 5200
  { spec: { requestId: "r5", cascaded: true, baselineModel: "gpt-4.1", calls: [
    { kind: "cascade_first", model: "small-8k", provider: "simulator", usage: { inputTokens: 1000, outputTokens: 400 } }] },
    want: ["0.00013", "0.0052", "0", "0", "0.00507", "0"] },
  // shadow call recorded, not billed: gpt-4.1-mini 400 + 1600 = 2000; baseline gpt-4.1 2000 + 8000
  { spec: { requestId: "r6", baselineModel: "gpt-4.1", answerUsage: { inputTokens: 1000, outputTokens: 1000 }, calls: [
    { model: "gpt-4.1-mini", usage: { inputTokens: 1000, outputTokens: 1000 } },
    { kind: "shadow", model: "gpt-4.1-nano", usage: { inputTokens: 1000, outputTokens: 1000 } }] },
    want: ["0.002", "0.01", "0", "0.008", "0", "0"] },
  // unpriced model: cost unknown (lower bound 0), no savings claimed; baseline 250 + 1000
  { spec: { requestId: "r7", calls: [{ model: "mystery-1", provider: "other", usage: { inputTokens: 100, outputTokens: 100 } }] },
    want: ["0", "0.00125", "0", "0", "0", "0"], unpriced: true },
  // cache hit: no call, whole baseline is cache savings
  { spec: { requestId: "r8", cacheOutcome: "hit_semantic", model: "gpt-4o-mini", answerUsage: { inputTokens: 1000, outputTokens: 500 } },
    want: ["0", "0.0075", "0.0075", "0", "0", "0"] },
  // batch: gpt-4o-mini 2000*0.15 + 1000*0.6 = 900, half price
  { spec: { requestId: "r9", batch: true, baselineModel: "gpt-4o-mini", calls: [{ kind: "batch", model: "gpt-4o-mini", usage: { inputTokens: 2000, outputTokens: 1000 } }] },
    want: ["0.00045", "0.0009", "0", "0", "0", "0.00045"] },
  // reasoning inside output, billed once: 1000*1.1 + 3000*4.4 = 14300
  { spec: { requestId: "r10", baselineModel: "o3-mini", calls: [{ model: "o3-mini", usage: { inputTokens: 1000, outputTokens: 3000, reasoningTokens: 2500 } }] },
    want: ["0.0143", "0.0143", "0", "0", "0", "0"] },
];

const sum = (i: number): string => MIX.reduce((s, m) => s.plus(m.want[i]!), new Decimal(0)).toFixed();

describe.each(["pglite", "pg"] as const)("ledger on %s", (kind) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openTestDb(kind);
  });
  afterAll(async () => {
    await db?.close();
  });

  it("records the scripted mix to the micro-dollar", async () => {
    const writer = new LedgerWriter(db.sql, prices);
    const results = await writer.writeBatch(MIX.map((m) => makeEvent(m.spec)));
    results.forEach((r, i) => {
      const [cost, baseline, cache, routing, cascade, batch] = MIX[i]!.want;
      expect(r.inserted).toBe(true);
      expect({ id: r.requestId, cost: r.cost.costUsd, baseline: r.cost.baselineUsd, cache: r.cost.cacheSavingsUsd,
        routing: r.cost.routingSavingsUsd, cascade: r.cost.cascadeSavingsUsd, batch: r.cost.batchSavingsUsd, unpriced: r.cost.unpriced })
        .toEqual({ id: MIX[i]!.spec.requestId, cost, baseline, cache, routing, cascade, batch, unpriced: MIX[i]!.unpriced ?? false });
    });

    // hand totals: cost 0.039575, baseline 0.12895, savings 0.088125 (baseline - cost without the unpriced r7)
    expect(sum(0)).toBe("0.039575");
    const report = await new SpendReport(db.sql).query({ since: new Date("2025-10-15T00:00:00Z") });
    expect(report.total.requests).toBe(10);
    expect(report.total.unpriced_requests).toBe(1);
    expect(report.total.cost_usd).toBe("0.039575");
    expect(report.total.baseline_usd).toBe(sum(1));
    expect(report.total.baseline_usd).toBe("0.12895");
    expect(report.total.savings_usd).toBe("0.088125");
    expect(report.total.cache_savings_usd).toBe(sum(2));
    expect(report.total.routing_savings_usd).toBe(sum(3));
    expect(report.total.cascade_savings_usd).toBe(sum(4));
    expect(report.total.batch_savings_usd).toBe(sum(5));

    const db2 = await db.sql.query<{ n: number; shadow: number; total: string }>(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE kind = 'shadow' AND NOT billed)::int AS shadow,
              sum(cost_usd) FILTER (WHERE billed)::text AS total FROM calls`);
    expect(db2.rows[0]).toEqual({ n: 11, shadow: 1, total: "0.039575000000" });
    const unpricedCall = await db.sql.query<{ cost: string | null }>(`SELECT cost_usd::text AS cost FROM calls WHERE model = 'mystery-1'`);
    expect(unpricedCall.rows[0]?.cost).toBeNull();
  });

  it("is idempotent on request id (same event twice → one row, rollup unchanged)", async () => {
    const writer = new LedgerWriter(db.sql, prices);
    const again = await writer.writeBatch([makeEvent(MIX[0]!.spec), makeEvent(MIX[1]!.spec)]);
    expect(again.map((r) => r.inserted)).toEqual([false, false]);
    const dup = makeEvent({ requestId: "r11", calls: [{ model: "gpt-4o-mini", usage: { inputTokens: 1_000_000 } }] });
    const inBatch = await writer.writeBatch([dup, dup]);
    expect(inBatch.map((r) => r.inserted)).toEqual([true, false]);
    const n = await db.sql.query<{ n: number }>("SELECT count(*)::int AS n FROM requests");
    expect(n.rows[0]?.n).toBe(11);
    const report = await new SpendReport(db.sql).query({ since: new Date("2025-10-15T00:00:00Z") });
    expect(report.total.requests).toBe(11);
    expect(report.total.cost_usd).toBe(new Decimal("0.039575").plus("0.15").toFixed());
  });

  it("groups, filters by tenant and reads a partial first day from raw rows", async () => {
    const writer = new LedgerWriter(db.sql, prices);
    await writer.writeBatch([
      makeEvent({ requestId: "p1", tenantId: "t2", completedAt: "2025-10-14T23:00:00.000Z", calls: [{ model: "gpt-4o", usage: { outputTokens: 100 } }] }),
      makeEvent({ requestId: "p2", tenantId: "t2", completedAt: "2025-10-14T10:00:00.000Z", calls: [{ model: "gpt-4o", usage: { outputTokens: 100 } }] }),
    ]);
    const report = new SpendReport(db.sql);
    // since 12:00 on the 14th: p1 (23:00, raw partial day) counts, p2 (10:00) does not
    const t2 = await report.query({ tenantId: "t2", since: new Date("2025-10-14T12:00:00Z"), groupBy: "day" });
    expect(t2.rows.map((r) => [r.group, r.requests, r.cost_usd])).toEqual([["2025-10-14", 1, "0.001"]]);
    const byModel = await report.query({ since: new Date("2025-10-01T00:00:00Z"), groupBy: "model" });
    const mini = byModel.rows.find((r) => r.group === "gpt-4o-mini");
    expect(mini?.requests).toBe(4); // r1, r8 (cache hit served gpt-4o-mini), r9, r11
    expect(byModel.total.requests).toBe(13);
    const byTier = await report.query({ since: new Date("2025-10-01T00:00:00Z"), groupBy: "tier" });
    expect(byTier.rows.map((r) => r.group)).toEqual(["medium"]);
  });
});
