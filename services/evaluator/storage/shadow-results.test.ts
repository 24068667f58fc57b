// Shadow results and the daily cap on the real PostgreSQL (a fresh schema) and on PGlite.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type OpenedDatabase } from "#libs/sql/open-database.ts";
import { wilsonInterval } from "#libs/stats/binomial.ts";
import { EVALUATOR_MIGRATIONS } from "./migrations.ts";
import { ShadowResultStore, type ShadowResultRow } from "./shadow-results.ts";

const PG_URL = "postgres://postgres@127.0.0.1:5432/test";

const row = (over: Partial<ShadowResultRow> = {}): ShadowResultRow => ({
  requestId: `r-${randomBytes(4).toString("hex")}`,
  candidateModel: "gpt-4o-mini",
  tenantId: "acme",
  category: "math",
  tier: "HIGH",
  servedModel: "gpt-4o",
  ok: true,
  score: 1,
  failures: [],
  verdicts: [{ scorer: "agreement", ok: true }],
  candidateCostUsd: "0.001",
  ...over,
});

describe.each(["pg", "pglite"] as const)("ShadowResultStore (%s)", (kind) => {
  let db: OpenedDatabase;
  let store: ShadowResultStore;
  const schema = `evaluator_test_${randomBytes(4).toString("hex")}`;

  beforeAll(async () => {
    db = await openDatabase(kind === "pg" ? PG_URL : "pglite:memory", { ...(kind === "pg" ? { schema, max: 20 } : {}), migrations: [EVALUATOR_MIGRATIONS] });
    store = new ShadowResultStore(db.sql);
  });
  afterAll(async () => {
    await db.close();
    if (kind === "pg") {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await c.end();
    }
  });

  it("records a result once (a redelivery is a no-op) and reports it by cell", async () => {
    const r = row({ tenantId: "once" });
    expect(await store.record(r, undefined)).toBe(true);
    expect(await store.record(r, undefined)).toBe(false);
    expect(await store.has(r.requestId, r.candidateModel)).toBe(true);
    await store.record(row({ tenantId: "once", ok: false, score: 0 }), undefined);
    const [f] = await store.report("once");
    expect(f).toMatchObject({ tenant: "once", category: "math", tier: "HIGH", from: "gpt-4o", to: "gpt-4o-mini", samples: 2, passes: 1, passRate: 0.5, safe: false });
  });

  it("the daily cap holds under concurrent reservations, and recorded spend counts against it", async () => {
    const day = "2026-01-02";
    const results = await Promise.all(Array.from({ length: 50 }, () => store.reserve(day, "0.1", "1")));
    expect(results.filter(Boolean).length).toBe(10);
    // One replay cost less than reserved: the difference is free again.
    expect(await store.record(row({ candidateCostUsd: "0.04" }), { day, reservedUsd: "0.1" })).toBe(true);
    expect(await store.spentToday(day)).toEqual({ spentUsd: "0.040000000000", reservedUsd: "0.900000000000" });
    expect(await store.reserve(day, "0.06", "1")).toBe(true);
    expect(await store.reserve(day, "0.01", "1")).toBe(false);
    await store.release(day, "0.5");
    expect(await store.reserve(day, "0.5", "1")).toBe(true);
  });

  it("keeps upward (canary) tests out of the downgrade evidence and reports pass rates per policy arm", async () => {
    const t0 = new Date(Date.now() - 1000);
    await store.record(row({ tenantId: "arms", policyVersion: 4 }), undefined);
    await store.record(row({ tenantId: "arms", policyVersion: 4, ok: false }), undefined);
    await store.record(row({ tenantId: "arms", policyVersion: 5, policyCanary: true, direction: "up", servedModel: "gpt-4o-mini", candidateModel: "gpt-4o" }), undefined);
    expect((await store.report("arms")).map((f) => f.samples)).toEqual([2]);
    expect((await store.since(t0)).every((r) => r.tenantId !== "arms" || r.servedModel === "gpt-4o")).toBe(true);
    const q = await store.policyQuality(t0);
    expect(q.find((x) => x.policyVersion === 4)).toMatchObject({ canary: false, direction: "down", tests: 2, passes: 1, passRate: 0.5 });
    const up = q.find((x) => x.policyVersion === 5);
    expect(up).toMatchObject({ canary: true, direction: "up", tests: 1, passes: 1 });
    expect(up?.low).toBeGreaterThan(0);
    expect(up?.high).toBe(1);
  });

  it("reports cache audits per category with a Wilson interval, apart from the downgrade and canary evidence", async () => {
    const t0 = new Date(Date.now() - 1000);
    const tests = async () => (await store.policyQuality(t0)).reduce((n, q) => n + q.tests, 0);
    const policyTests = await tests();
    const audit = (over: Partial<ShadowResultRow>) => row({ tenantId: "audits", direction: "cache", servedModel: "gpt-4o-mini", cacheSimilarity: 0.91, ...over });
    await store.record(audit({ category: "math", cacheBaselineOk: true }), undefined);
    await store.record(audit({ category: "math", ok: false, cacheBaselineOk: false }), undefined);
    await store.record(audit({ category: "math", ok: false }), undefined);
    await store.record(audit({ category: "code" }), undefined);
    await store.record(audit({ category: "code", tenantId: "audits-other" }), undefined);
    const all = await store.cacheQuality(t0);
    expect(all.map((r) => [r.category, r.audits, r.wrong])).toEqual([["code", 2, 0], ["math", 3, 2]]);
    const math = all.find((r) => r.category === "math");
    expect(math?.wrongHitRate).toBeCloseTo(2 / 3, 9);
    expect(math?.low).toBeGreaterThan(0.2);
    expect(math?.high).toBeLessThan(1);
    // Two of its audits ran a baseline; the judge rejected the cached answer for its own question once.
    expect(math).toMatchObject({ baselineAudits: 2, baselineWrong: 1 });
    expect(math?.baselineHigh).toBeGreaterThan(0.5);
    expect(all.find((r) => r.category === "code")).toMatchObject({ baselineAudits: 0, baselineWrong: 0, baselineHigh: 0 });
    expect((await store.cacheQuality(t0, "audits")).map((r) => [r.category, r.audits])).toEqual([["code", 1], ["math", 3]]);
    // All at similarity 0.91: one cut holding every audit.
    expect(math?.cuts).toEqual([{ similarity: 0.91, audits: 3, wrong: 2, high: math?.high }]);
    expect(math?.baselineLow).toBeGreaterThan(0);
    expect(await store.cacheQuality(new Date(Date.now() + 60_000))).toEqual([]);
    expect(await store.report("audits")).toEqual([]);
    expect((await store.since(t0)).some((r) => r.tenantId === "audits")).toBe(false);
    expect(await tests()).toBe(policyTests);
  });

  it("cuts a category's audits by similarity: at or above each hundredth where audits start", async () => {
    const t0 = new Date(Date.now() - 1000);
    const audit = (cacheSimilarity: number | undefined, ok: boolean) => row({ tenantId: "cuts", category: "faq", direction: "cache", servedModel: "gpt-4o-mini", ok, ...(cacheSimilarity === undefined ? {} : { cacheSimilarity }) });
    for (const [sim, ok] of [[0.8, false], [0.805, false], [0.87, true], [0.93, true], [0.97, false], [0.29, true]] as const) await store.record(audit(sim, ok), undefined);
    // An audit without a similarity counts in the totals but in no cut.
    await store.record(audit(undefined, true), undefined);
    const [faq] = await store.cacheQuality(t0, "cuts");
    expect(faq).toMatchObject({ audits: 7, wrong: 3 });
    expect(faq?.cuts.map((c) => [c.similarity, c.audits, c.wrong])).toEqual([[0.29, 6, 3], [0.8, 5, 3], [0.87, 3, 1], [0.93, 2, 1], [0.97, 1, 1]]);
    expect(faq?.cuts[2]?.high).toBeCloseTo(wilsonInterval(1, 3)[1], 12);
  });

  it("lists refuted entries: the highest refuted similarity per entry, not those the baseline also rejected", async () => {
    const t0 = new Date(Date.now() - 1000);
    const audit = (cacheEntry: string | undefined, cacheSimilarity: number, ok: boolean, over: Partial<ShadowResultRow> = {}) =>
      row({ tenantId: "entries", category: "faq", direction: "cache", servedModel: "gpt-4o-mini", ok, cacheSimilarity, ...(cacheEntry ? { cacheEntry } : {}), ...over });
    await store.record(audit("e1", 0.9, false), undefined);
    await store.record(audit("e1", 0.94, false, { cacheBaselineOk: true }), undefined);
    await store.record(audit("e1", 0.97, true), undefined); // a confirmed hit does not bar the entry
    await store.record(audit("e2", 0.95, false, { cacheBaselineOk: false }), undefined); // the judge's doing
    await store.record(audit("e3", 0.92, false, { tenantId: "entries-other" }), undefined);
    await store.record(audit(undefined, 0.93, false), undefined); // an audit from before entries were recorded
    await store.record(audit("e4", 0.96, true), undefined);
    const mine = await store.refutedEntries(t0, "entries");
    expect(mine).toEqual([{ tenantId: "entries", entryId: "e1", category: "faq", similarity: 0.94 }]);
    const all = await store.refutedEntries(t0);
    expect(all.map((e) => [e.tenantId, e.entryId])).toEqual([["entries-other", "e3"], ["entries", "e1"]]);
    expect(await store.refutedEntries(t0, "", 1)).toHaveLength(1);
    expect(await store.refutedEntries(new Date(Date.now() + 60_000))).toEqual([]);
    // The totals count the same entries, per tenant (e1 twice refuted counts once; e2, the unnamed audit and e4 not).
    expect((await store.cacheQuality(t0, "entries")).map((r) => [r.category, r.refutedEntries])).toEqual([["faq", 1]]);
    expect((await store.cacheQuality(t0)).find((r) => r.category === "faq")?.refutedEntries).toBe(2);
  });

  it("returns stored prompts of downward tests as training rows", async () => {
    const t0 = new Date(Date.now() - 1000);
    const input = { messages: [{ role: "user", content: "What is 2+2?" }], has_tools: false, json_mode: false };
    await store.record(row({ tenantId: "train", input }), undefined);
    await store.record(row({ tenantId: "train" }), undefined);
    await store.record(row({ tenantId: "train", input, direction: "up", candidateModel: "gpt-4o" }), undefined);
    const rows = await store.trainingRows(t0, "train");
    expect(rows).toHaveLength(1);
    expect(rows[0]?.input).toEqual(input);
  });
});
