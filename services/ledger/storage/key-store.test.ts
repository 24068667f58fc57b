import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeyStore } from "./key-store.ts";
import { openTestDb, type TestDb } from "./test-support.ts";

describe.each(["pglite", "pg"] as const)("KeyStore on %s", (kind) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openTestDb(kind);
  });
  afterAll(async () => {
    await db?.close();
  });

  it("creates, verifies, lists and revokes; stores only the hash", async () => {
    const keys = new KeyStore(db.sql);
    const { keyId, key } = await keys.create({ tenantId: "acme", name: "ci" });
    expect(key.startsWith("llmgw-")).toBe(true);
    expect(await keys.verify(key)).toEqual({ valid: true, keyId, tenantId: "acme", admin: false });
    expect((await keys.verify(key + "x")).valid).toBe(false);
    const stored = await db.sql.query<{ key_hash: string }>("SELECT key_hash FROM api_keys WHERE id = $1", [keyId]);
    expect(stored.rows[0]?.key_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(stored.rows)).not.toContain(key);
    const list = await keys.list("acme");
    expect(list.map((k) => [k.keyId, k.prefix, k.revoked])).toEqual([[keyId, key.slice(0, 12), false]]);
    expect(await keys.revoke(keyId)).toBe(true);
    expect(await keys.revoke(keyId)).toBe(false);
    expect((await keys.verify(key)).valid).toBe(false);
  });

  it("bootstrap key is created once and returned only then", async () => {
    const keys = new KeyStore(db.sql);
    const first = await keys.ensureBootstrapKey();
    expect(first?.key).toMatch(/^llmgw-/);
    expect(await keys.ensureBootstrapKey()).toBeUndefined();
    const fixed = "llmgw-fixed-bootstrap-key-123456";
    const made = await keys.ensureBootstrapKey(fixed);
    expect(made?.key).toBe(fixed);
    expect(await keys.ensureBootstrapKey(fixed)).toBeUndefined();
    expect((await keys.verify(fixed)).admin).toBe(true);
  });
});
