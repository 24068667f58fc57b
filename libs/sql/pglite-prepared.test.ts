import type { PGlite } from "@electric-sql/pglite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pgliteSqlClient } from "./pglite-client.ts";
import { openPglite } from "./pglite-open.ts";
import type { SqlClient } from "./sql-client.ts";

const INSERT = `INSERT INTO t (id, amount, at, tags, note)
  SELECT * FROM unnest($1::text[], $2::numeric[], $3::timestamptz[], $4::text[], $5::text[])
  ON CONFLICT (id) DO NOTHING RETURNING id, amount, at, note, n`;

describe("prepared statements on PGlite", () => {
  let db: PGlite;
  let sql: SqlClient;
  beforeAll(async () => {
    db = await openPglite(undefined);
    await db.exec("CREATE TABLE t (id text PRIMARY KEY, amount numeric NOT NULL, at timestamptz, tags text, note text, n int NOT NULL DEFAULT 7)");
    sql = pgliteSqlClient(db);
  }, 60_000);
  afterAll(async () => {
    await db?.close();
  });

  it("answers like query(): same rows, same parsed types, nulls and quoting kept", async () => {
    const params = (ids: string[]) => [ids, ids.map(() => "0.000000000001"), ids.map(() => "2025-10-15T12:00:00.000Z"), ids.map(() => 'a "quoted" \\ tag, {x}'), ids.map((_, i) => (i === 0 ? null : "note"))];
    const plain = await sql.query(INSERT, params(["p1", "p2"]));
    const prepared = await sql.query(INSERT, params(["q1", "q2"]), { prepare: "t_insert" });
    const again = await sql.query(INSERT, params(["q3", "q1"]), { prepare: "t_insert" });
    const strip = (rows: unknown[]) => rows.map((r) => ({ ...(r as Record<string, unknown>), id: undefined }));
    expect(strip(prepared.rows)).toEqual(strip(plain.rows));
    expect(again.rows.map((r) => (r as { id: string }).id)).toEqual(["q3"]); // q1 conflicts
    const tags = await sql.query<{ tags: string }>("SELECT DISTINCT tags FROM t");
    expect(tags.rows).toEqual([{ tags: 'a "quoted" \\ tag, {x}' }]);
  });

  it("works inside a transaction, and an error there rolls it back and leaves the statement usable", async () => {
    await expect(
      sql.transaction(async (tx) => {
        await tx.query(INSERT, [["tx1"], ["1"], [null], [null], [null]], { prepare: "t_insert" });
        await tx.query("INSERT INTO t (id, amount) VALUES ('tx2', NULL)"); // NOT NULL violation
      }),
    ).rejects.toThrow(/null value/);
    expect((await sql.query("SELECT 1 FROM t WHERE id = 'tx1'")).rows).toEqual([]);
    await expect(sql.query(INSERT, [["e1"], [null], [null], [null], [null]], { prepare: "t_insert" })).rejects.toThrow(/null value/);
    const ok = await sql.query<{ id: string }>(INSERT, [["e2"], ["2"], [null], [null], [null]], { prepare: "t_insert" });
    expect(ok.rows.map((r) => r.id)).toEqual(["e2"]);
  });

  it("waits for another caller's open transaction instead of running inside it", async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((r) => (release = r));
    const tx = sql.transaction(async (t) => {
      await t.query("INSERT INTO t (id, amount) VALUES ('held', 1)");
      await held;
      throw new Error("roll back");
    });
    const prepared = sql.query(INSERT, [["after"], ["1"], [null], [null], [null]], { prepare: "t_insert" });
    release();
    await expect(tx).rejects.toThrow("roll back");
    await prepared;
    const ids = await sql.query<{ id: string }>("SELECT id FROM t WHERE id IN ('held', 'after') ORDER BY id");
    expect(ids.rows).toEqual([{ id: "after" }]);
  });

  it("refuses a second text under the same name", async () => {
    await expect(sql.query("SELECT 1", [], { prepare: "t_insert" })).rejects.toThrow(/another text/);
  });
});
