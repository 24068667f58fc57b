import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { TenantCipher } from "../domain/privacy/tenant-cipher.ts";
import { MemoryIndexFeed } from "./index-feed.ts";
import { InProcessVectorIndex } from "./inprocess-vector-index.ts";
import { MemorySemanticEntries, type SemanticEntryStore } from "./semantic-entries.ts";
import { decodeEntry, decodeEvent, encodeEntry, encodeEvent, type SemanticEntry, type TextSeal } from "./semantic-entry.ts";
import { SharedVectorIndex } from "./shared-vector-index.ts";
import type { VectorPartition } from "./vector-index.ts";

const DIM = 8;
const EMBEDDER = "test@1";
const FAR = Date.now() + 3_600_000;

function unit(...xs: number[]): Float32Array {
  const v = new Float32Array(DIM);
  xs.forEach((x, i) => (v[i] = x));
  const n = Math.hypot(...xs) || 1;
  return v.map((x) => x / n);
}

const P = (tenant = "t", namespace = "ns", key = "k"): VectorPartition => ({ tenant, namespace, key });
const meta = (id: string, o: { model?: string; createdAt?: number } = {}) => ({ id, text: `text of ${id}`, createdAt: o.createdAt ?? Date.now(), expiresAt: FAR, ...(o.model ? { model: o.model } : {}) });

interface World {
  entries: SemanticEntryStore;
  feed: MemoryIndexFeed;
  replica(o?: { embedderId?: string; max?: number }): SharedVectorIndex;
}

function world(entries: SemanticEntryStore = new MemorySemanticEntries()): World {
  const feed = new MemoryIndexFeed();
  return {
    entries,
    feed,
    replica: (o = {}) => new SharedVectorIndex({ local: new InProcessVectorIndex({ dim: DIM, maxEntriesPerTenant: o.max ?? 1_000 }), entries, feed, embedderId: o.embedderId ?? EMBEDDER }),
  };
}

async function ids(index: SharedVectorIndex, p: VectorPartition, v: Float32Array): Promise<string[]> {
  return (await index.search(p, v, 10, Date.now())).map((m) => m.meta.id);
}

describe("SharedVectorIndex: replicas in step through the feed, rebuilt from the entry store", () => {
  it("an entry stored through one replica is found by another, and by a replica started afterwards", async () => {
    const w = world();
    const a = w.replica();
    const b = w.replica();
    await a.start();
    await b.start();
    await a.upsert(P(), meta("x"), unit(1, 0.1));
    expect(await ids(a, P(), unit(1))).toEqual(["x"]); // the storing replica at once
    await a.flush();
    expect(await ids(b, P(), unit(1))).toEqual(["x"]);
    // A restart: a fresh replica knows nothing until it rebuilds.
    const c = w.replica();
    expect(await ids(c, P(), unit(1))).toEqual([]);
    await c.start();
    expect(await ids(c, P(), unit(1))).toEqual(["x"]);
    expect(c.stats.loaded).toBe(1);
  });

  it("invalidations by tenant, namespace, model and age reach every replica and the store", async () => {
    const w = world();
    const a = w.replica();
    const b = w.replica();
    await a.start();
    await b.start();
    await a.upsert(P("t", "n1", "k"), meta("n1-old", { model: "m1", createdAt: 100 }), unit(1));
    await a.upsert(P("t", "n1", "k"), meta("n1-new", { model: "m2", createdAt: 300 }), unit(1, 0.2));
    await a.upsert(P("t", "n2", "k2"), meta("n2", { model: "m1", createdAt: 300 }), unit(1));
    await a.upsert(P("u", "n1", "k"), meta("u", { model: "m1", createdAt: 100 }), unit(1));
    await a.flush();
    expect(await ids(b, P("t", "n1", "k"), unit(1))).toEqual(["n1-old", "n1-new"]);

    expect(await a.purge("t", { model: "m1", createdBefore: 200 })).toBe(1);
    expect(await ids(b, P("t", "n1", "k"), unit(1))).toEqual(["n1-new"]);
    expect(await ids(b, P("t", "n2", "k2"), unit(1))).toEqual(["n2"]);

    expect(await b.invalidate("t", "n2")).toBe(1);
    expect(await ids(a, P("t", "n2", "k2"), unit(1))).toEqual([]);
    expect(await ids(a, P("t", "n1", "k"), unit(1))).toEqual(["n1-new"]);

    await a.invalidate("t");
    expect(await ids(b, P("t", "n1", "k"), unit(1))).toEqual([]);
    expect(await ids(b, P("u", "n1", "k"), unit(1))).toEqual(["u"]); // another tenant untouched
    // A replica started now rebuilds only what survived.
    const c = w.replica();
    await c.start();
    expect(c.stats.loaded).toBe(1);
    expect(await ids(c, P("u", "n1", "k"), unit(1))).toEqual(["u"]);
  });

  it("replicas converge whatever the interleaving: a store racing an invalidation elsewhere ends the same on both", async () => {
    const w = world();
    const a = w.replica();
    const b = w.replica();
    await a.start();
    await b.start();
    // b stores (its event is in flight) while a invalidates the tenant; the feed orders store before invalidate.
    const stored = b.upsert(P(), meta("x"), unit(1));
    const invalidated = a.invalidate("t");
    await Promise.all([stored, invalidated, a.flush(), b.flush()]);
    const onA = await ids(a, P(), unit(1));
    const onB = await ids(b, P(), unit(1));
    expect(onA).toEqual(onB);
  });

  it("events published while a replica rebuilds are applied after the rebuild, in order", async () => {
    const inner = new MemorySemanticEntries();
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    // An entry store whose second load (b's) waits, so events arrive during the rebuild.
    let loads = 0;
    const slow: SemanticEntryStore = {
      kind: "slow",
      put: (e, ttl) => inner.put(e, ttl),
      remove: (t, id) => inner.remove(t, id),
      drop: (t, f) => inner.drop(t, f),
      load: async (visit) => {
        if (++loads > 1) await gate;
        return inner.load(visit);
      },
    };
    const w = world(slow);
    const a = w.replica();
    await a.start();
    await a.upsert(P(), meta("old"), unit(1));
    await a.flush();
    const b = w.replica();
    const starting = b.start();
    await new Promise((r) => setTimeout(r, 5));
    await a.upsert(P(), meta("during"), unit(1, 0.1));
    await a.flush();
    await w.feed.publish({ kind: "remove", partition: P(), id: "old" });
    release();
    await starting;
    // Loaded "old" (and "during") from the store, then applied the held events: "old" removed.
    expect(await ids(b, P(), unit(1))).toEqual(["during"]);
  });

  it("entries of another embedder are never loaded or applied", async () => {
    const w = world();
    const other = w.replica({ embedderId: "other@9" });
    await other.start();
    await other.upsert(P(), meta("foreign"), unit(1));
    await other.flush();
    const mine = w.replica();
    await mine.start();
    expect(await ids(mine, P(), unit(1))).toEqual([]);
    await other.upsert(P(), meta("foreign2"), unit(1));
    await other.flush();
    expect(await ids(mine, P(), unit(1))).toEqual([]);
  });

  it("bounds every replica's index and the store per tenant, oldest out first", async () => {
    const w = world(new MemorySemanticEntries({ maxEntriesPerTenant: 3 }));
    const a = w.replica({ max: 3 });
    const b = w.replica({ max: 3 });
    await a.start();
    await b.start();
    for (let i = 0; i < 5; i++) await a.upsert(P(), meta(`e${i}`), unit(1, i / 10));
    await a.flush();
    expect((await ids(b, P(), unit(1))).sort()).toEqual(["e2", "e3", "e4"]);
    const c = w.replica({ max: 3 });
    await c.start();
    expect((await ids(c, P(), unit(1))).sort()).toEqual(["e2", "e3", "e4"]);
  });

  it("an entry store away at start is loaded again later", async () => {
    const inner = new MemorySemanticEntries();
    const w0 = world(inner);
    const a = w0.replica();
    await a.start();
    await a.upsert(P(), meta("x"), unit(1));
    await a.flush();
    let failures = 1;
    const flaky: SemanticEntryStore = {
      kind: "flaky",
      put: (e, ttl) => inner.put(e, ttl),
      remove: (t, id) => inner.remove(t, id),
      drop: (t, f) => inner.drop(t, f),
      load: async (visit) => {
        if (failures-- > 0) throw new Error("redis away");
        return inner.load(visit);
      },
    };
    const b = new SharedVectorIndex({ local: new InProcessVectorIndex({ dim: DIM }), entries: flaky, feed: w0.feed, embedderId: EMBEDDER, retryMs: 10 });
    await b.start();
    expect(await ids(b, P(), unit(1))).toEqual([]);
    await new Promise((r) => setTimeout(r, 60));
    expect(await ids(b, P(), unit(1))).toEqual(["x"]);
    await b.close();
  });

  it("a feed that cannot be followed does not stop the replica: it serves its own entries", async () => {
    const entries = new MemorySemanticEntries();
    const index = new SharedVectorIndex({
      local: new InProcessVectorIndex({ dim: DIM }),
      entries,
      feed: { publish: async () => Promise.reject(new Error("broker away")), follow: async () => Promise.reject(new Error("broker away")) },
      embedderId: EMBEDDER,
      retryMs: 60_000,
    });
    await index.start();
    await index.upsert(P(), meta("x"), unit(1));
    await index.flush();
    expect(await ids(index, P(), unit(1))).toEqual(["x"]);
    expect(index.stats.failedWrites).toBe(1);
    await index.close();
  });
});

describe("semantic entry codec", () => {
  const entry: SemanticEntry = { partition: P("acme", "ns", "pk"), meta: meta("id1", { model: "gpt-x" }), embedderId: EMBEDDER, vector: unit(0.3, 0.4, 0.5) };

  it("round-trips entries and events", () => {
    expect(decodeEntry(encodeEntry(entry))).toEqual(entry);
    expect(decodeEvent(encodeEvent({ kind: "store", entry }))).toEqual({ kind: "store", entry });
    const purge = { kind: "purge" as const, tenant: "t", filter: { model: "m", createdBefore: 5 } };
    expect(decodeEvent(encodeEvent(purge))).toEqual(purge);
    expect(decodeEvent(new Uint8Array([9, 1, 2]))).toBeUndefined();
    expect(decodeEntry(encodeEntry(entry).subarray(0, 20))).toBeUndefined();
  });

  it("with a master key the question is sealed in the stored bytes, and another key opens nothing", () => {
    const seal: TextSeal = new TenantCipher(randomBytes(32));
    const secret: SemanticEntry = { ...entry, meta: { ...entry.meta, text: "what is the launch code tangerine" } };
    const bytes = encodeEntry(secret, seal);
    expect(Buffer.from(bytes).includes(Buffer.from("tangerine"))).toBe(false);
    expect(decodeEntry(bytes, seal)?.meta.text).toBe("what is the launch code tangerine");
    expect(decodeEntry(bytes, new TenantCipher(randomBytes(32)))).toBeUndefined();
  });
});
