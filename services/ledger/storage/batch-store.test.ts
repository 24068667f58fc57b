import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BatchStore } from "./batch-store.ts";
import { openTestDb, uniqueId, type TestDb } from "./test-support.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

describe.each(["pglite", "pg"] as const)("BatchStore on %s", (kind) => {
  let db: TestDb;
  let store: BatchStore;
  beforeAll(async () => {
    db = await openTestDb(kind);
    store = new BatchStore(db.sql);
  }, 180_000);
  afterAll(async () => {
    await db?.close();
  });

  it("files: tenant-scoped, listed newest first with a cursor, deleted", async () => {
    const t = uniqueId("t");
    for (let i = 0; i < 3; i++) await store.putFile({ id: `${t}-f${i}`, tenantId: t, filename: `f${i}.jsonl`, purpose: "batch", createdAt: 1_000 + i, content: enc.encode(`line ${i}\n`) });
    const got = await store.getFile(t, `${t}-f1`, true);
    expect(dec.decode(got?.content)).toBe("line 1\n");
    expect(got?.bytes).toBe(7n);
    expect(await store.getFile("other", `${t}-f1`, true)).toBeUndefined();
    const p1 = await store.listFiles(t, "", 2, "");
    expect(p1.files.map((f) => f.id)).toEqual([`${t}-f2`, `${t}-f1`]);
    expect(p1.hasMore).toBe(true);
    const p2 = await store.listFiles(t, `${t}-f1`, 2, "");
    expect(p2.files.map((f) => f.id)).toEqual([`${t}-f0`]);
    expect(p2.hasMore).toBe(false);
    expect(await store.deleteFile("other", `${t}-f0`)).toBe(false);
    expect(await store.deleteFile(t, `${t}-f0`)).toBe(true);
    expect(await store.getFile(t, `${t}-f0`, false)).toBeUndefined();
  });

  it("jobs and lines: counts derived from lines, status compare-and-set, final lines never rewritten", async () => {
    const t = uniqueId("t");
    const id = `${t}-b`;
    const lines = Array.from({ length: 3 }, (_, i) => ({ index: i, customId: `c${i}`, bodyJson: enc.encode(`{"i":${i}}`), requestedModel: "auto" }));
    await store.createJob({ id, tenantId: t, inputFileId: "f", endpoint: "/v1/chat/completions", completionWindow: "24h", status: "validating", createdAt: 10n, expiresAt: 100n }, lines);
    expect(await store.getJob(t, id)).toMatchObject({ status: "validating", total: 3, completed: 0, failed: 0 });
    expect(await store.getJob("other", id)).toBeUndefined();

    expect((await store.updateJob({ id, status: "in_progress", inProgressAt: 11n }, ["validating"])).updated).toBe(true);
    expect((await store.updateJob({ id, status: "finalizing" }, ["validating"])).updated).toBe(false);

    expect(await store.updateLines(id, [{ index: 0, state: "routed", model: "gpt-4o-mini" }, { index: 1, state: "succeeded", resultJson: enc.encode('{"ok":1}'), statusCode: 200, costUsd: "0.1" }])).toBe(2);
    // Line 1 is final: a second result (a redelivery) does not replace it.
    expect(await store.updateLines(id, [{ index: 1, state: "failed", statusCode: 500 }, { index: 2, state: "failed", statusCode: 500, errorCode: "x" }])).toBe(1);
    const got = await store.getLines(id, 0, 10, [], true, true);
    expect(got.map((l) => [l.state, l.model, l.statusCode])).toEqual([["routed", "gpt-4o-mini", 0], ["succeeded", "", 200], ["failed", "", 500]]);
    expect(dec.decode(got[1]?.resultJson)).toBe('{"ok":1}');
    expect((await store.getLines(id, 0, 10, ["routed"], false, false)).map((l) => l.index)).toEqual([0]);
    expect(await store.getJob(t, id)).toMatchObject({ status: "in_progress", inProgressAt: 11n, total: 3, completed: 1, failed: 1 });

    const active = await store.listJobs("", "", 1000, true);
    expect(active.jobs.some((j) => j.id === id)).toBe(true);
  });

  it("sub-batches upsert; a lease is held by one holder until it expires or is released", async () => {
    const t = uniqueId("t");
    await store.createJob({ id: `${t}-b`, tenantId: t, inputFileId: "f", endpoint: "e", completionWindow: "24h", status: "in_progress", createdAt: 1n, expiresAt: 2n }, [{ index: 0, customId: "a", bodyJson: enc.encode("{}") }]);
    await store.putSubBatch({ batchId: `${t}-b`, key: "k", model: "m", state: "submitting" });
    await store.putSubBatch({ batchId: `${t}-b`, key: "k", model: "m", state: "submitted", providerBatchId: "pb" });
    expect(await store.listSubBatches(`${t}-b`)).toEqual([{ batchId: `${t}-b`, key: "k", model: "m", provider: "", state: "submitted", providerBatchId: "pb" }]);

    const name = uniqueId("lease");
    const t0 = new Date("2026-01-01T00:00:00Z");
    const later = (ms: number) => new Date(t0.getTime() + ms);
    expect(await store.lease(name, "a", 1_000, false, t0)).toBe("a");
    expect(await store.lease(name, "b", 1_000, false, later(500))).toBe("a");
    expect(await store.lease(name, "a", 1_000, false, later(900))).toBe("a"); // renewed to 1.9 s
    expect(await store.lease(name, "b", 1_000, false, later(1_500))).toBe("a");
    expect(await store.lease(name, "b", 1_000, false, later(2_000))).toBe("b"); // stolen once expired
    await store.lease(name, "b", 0, true, later(2_100));
    expect(await store.lease(name, "a", 1_000, false, later(2_200))).toBe("a");
  });
});
