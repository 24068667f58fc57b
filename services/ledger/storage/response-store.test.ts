import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ResponseStore } from "./response-store.ts";
import { openTestDb, type TestDb } from "./test-support.ts";

const HOUR = 3_600;
const at = (iso: string) => new Date(iso);
const turn = (tenantId: string, id: string, previousId = "") => ({ tenantId, id, previousId, model: "gpt-4o-mini", provider: "openai", inputJson: `[{"role":"user","content":"${id}"}]`, responseJson: `{"id":"${id}"}` });

describe.each(["pglite", "pg"] as const)("ResponseStore on %s", (kind) => {
  let db: TestDb;
  let store: ResponseStore;
  beforeAll(async () => {
    db = await openTestDb(kind);
    store = new ResponseStore(db.sql, HOUR);
    // PGlite's start and the migrations can take a while on a busy machine.
  }, 180_000);
  afterAll(async () => {
    await db?.close();
  });

  it("stores per tenant; another tenant does not find it", async () => {
    const expires = await store.put(turn("acme", "resp_a1"), at("2026-01-01T00:00:00Z"));
    expect(expires).toBe("2026-01-01T01:00:00.000Z");
    const got = await store.get("acme", "resp_a1", at("2026-01-01T00:10:00Z"));
    expect(got).toMatchObject({ id: "resp_a1", tenantId: "acme", model: "gpt-4o-mini", provider: "openai", responseJson: '{"id":"resp_a1"}', createdAt: "2026-01-01T00:00:00.000Z" });
    expect(await store.get("other", "resp_a1", at("2026-01-01T00:10:00Z"))).toBeUndefined();
    expect(await store.chain("other", "resp_a1", at("2026-01-01T00:10:00Z"))).toBeUndefined();
    expect(await store.delete("other", "resp_a1", at("2026-01-01T00:10:00Z"))).toBe(false);
  });

  it("rebuilds the chain oldest first, and a new turn keeps the earlier ones alive", async () => {
    await store.put(turn("acme", "resp_c1"), at("2026-01-01T00:00:00Z"));
    await store.put(turn("acme", "resp_c2", "resp_c1"), at("2026-01-01T00:30:00Z"));
    await store.put(turn("acme", "resp_c3", "resp_c2"), at("2026-01-01T00:50:00Z"));
    // resp_c1 alone would have expired at 01:00; the third turn extended it to 01:50.
    const c = await store.chain("acme", "resp_c3", at("2026-01-01T01:20:00Z"));
    expect(c?.chain.map((r) => r.id)).toEqual(["resp_c1", "resp_c2", "resp_c3"]);
    expect(c?.missingId).toBe("");
    expect(c?.chain[0]?.expiresAt).toBe("2026-01-01T01:50:00.000Z");
  });

  it("says which earlier turn is missing when a chain is broken", async () => {
    await store.put(turn("acme", "resp_b1"), at("2026-01-01T00:00:00Z"));
    await store.put(turn("acme", "resp_b2", "resp_b1"), at("2026-01-01T00:00:00Z"));
    expect(await store.delete("acme", "resp_b1", at("2026-01-01T00:01:00Z"))).toBe(true);
    const c = await store.chain("acme", "resp_b2", at("2026-01-01T00:02:00Z"));
    expect(c?.chain.map((r) => r.id)).toEqual(["resp_b2"]);
    expect(c?.missingId).toBe("resp_b1");
  });

  it("expired responses are not returned, and purge deletes them", async () => {
    await store.put(turn("acme", "resp_e1"), at("2025-01-01T00:00:00Z"));
    expect(await store.get("acme", "resp_e1", at("2025-01-01T00:59:59Z"))).toBeDefined();
    expect(await store.get("acme", "resp_e1", at("2025-01-01T01:00:00Z"))).toBeUndefined();
    expect(await store.chain("acme", "resp_e1", at("2025-01-01T02:00:00Z"))).toBeUndefined();
    const before = await db.sql.query<{ n: string }>("SELECT count(*)::text AS n FROM responses WHERE id = 'resp_e1'");
    expect(before.rows[0]?.n).toBe("1");
    expect(await store.purge(at("2025-06-01T00:00:00Z"))).toBeGreaterThanOrEqual(1);
    const after = await db.sql.query<{ n: string }>("SELECT count(*)::text AS n FROM responses WHERE id = 'resp_e1'");
    expect(after.rows[0]?.n).toBe("0");
    // A live one survives the purge.
    expect(await store.get("acme", "resp_a1", at("2026-01-01T00:10:00Z"))).toBeDefined();
  });

  it("put is idempotent on (tenant, id): a retry replaces the row", async () => {
    await store.put(turn("acme", "resp_i1"), at("2026-01-01T00:00:00Z"));
    await store.put({ ...turn("acme", "resp_i1"), responseJson: '{"id":"resp_i1","v":2}' }, at("2026-01-01T00:00:01Z"));
    expect((await store.get("acme", "resp_i1", at("2026-01-01T00:00:02Z")))?.responseJson).toBe('{"id":"resp_i1","v":2}');
  });
});
