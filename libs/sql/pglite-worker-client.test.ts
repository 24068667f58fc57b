import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "./open-database.ts";
import { startPgliteWorker, type PgliteWorkerDb } from "./pglite-worker-client.ts";
import type { SqlClient } from "./sql-client.ts";

const INSERT = `INSERT INTO t (id, amount, at, tags, note)
  SELECT * FROM unnest($1::text[], $2::numeric[], $3::timestamptz[], $4::text[], $5::text[])
  ON CONFLICT (id) DO NOTHING RETURNING id, amount, at, note, n`;

describe("PGlite in a worker thread", () => {
  let db: PgliteWorkerDb;
  let sql: SqlClient;
  beforeAll(async () => {
    db = await startPgliteWorker(undefined);
    sql = db.sql;
    await db.migrationClient.query(
      "CREATE TABLE t (id text PRIMARY KEY, amount numeric NOT NULL, at timestamptz, tags text, note text, n int NOT NULL DEFAULT 7); CREATE TABLE u (k text PRIMARY KEY)",
    );
  }, 60_000);
  afterAll(async () => {
    await db?.close();
  });

  it("runs queries with parameters: arrays, bigint, null, dates, json", async () => {
    const at = new Date("2025-10-15T12:00:00.000Z");
    const { rows } = await sql.query<Record<string, unknown>>("SELECT $1::int8::text AS big, $2::text[] AS arr, $3::text AS nothing, $4::timestamptz AS at, $5::jsonb AS doc, $6::int AS n", [
      9007199254740993n,
      ["a", "b,c", null],
      null,
      at,
      { x: [1, "y"] },
      42,
    ]);
    expect(rows).toEqual([{ big: "9007199254740993", arr: ["a", "b,c", null], nothing: null, at, doc: { x: [1, "y"] }, n: 42 }]);
  });

  it("answers prepared statements like plain ones", async () => {
    const params = (ids: string[]) => [ids, ids.map(() => "0.000000000001"), ids.map(() => "2025-10-15T12:00:00.000Z"), ids.map(() => 'a "quoted" \\ tag'), ids.map((_, i) => (i === 0 ? null : "note"))];
    const plain = await sql.query(INSERT, params(["p1", "p2"]));
    const prepared = await sql.query(INSERT, params(["q1", "q2"]), { prepare: "t_insert" });
    const again = await sql.query<{ id: string }>(INSERT, params(["q3", "q1"]), { prepare: "t_insert" });
    const strip = (rows: unknown[]) => rows.map((r) => ({ ...(r as Record<string, unknown>), id: undefined }));
    expect(strip(prepared.rows)).toEqual(strip(plain.rows));
    expect(again.rows.map((r) => r.id)).toEqual(["q3"]);
    await expect(sql.query("SELECT 1", [], { prepare: "t_insert" })).rejects.toThrow(/already holds another text/);
  });

  it("commits a transaction, with prepared statements inside it", async () => {
    const out = await sql.transaction(async (tx) => {
      await tx.query(INSERT, [["c1"], ["1"], [null], [null], [null]], { prepare: "t_insert" });
      await tx.transaction((same) => same.query("INSERT INTO u VALUES ('c1')"));
      return "done";
    });
    expect(out).toBe("done");
    expect((await sql.query("SELECT id FROM t WHERE id = 'c1'")).rows).toEqual([{ id: "c1" }]);
    expect((await sql.query("SELECT k FROM u WHERE k = 'c1'")).rows).toEqual([{ k: "c1" }]);
  });

  it("rolls a transaction back when its function throws, and reports the caller's error", async () => {
    await expect(
      sql.transaction(async (tx) => {
        await tx.query("INSERT INTO u VALUES ('r1')");
        throw new Error("changed my mind");
      }),
    ).rejects.toThrow("changed my mind");
    await expect(
      sql.transaction(async (tx) => {
        await tx.query("INSERT INTO u VALUES ('r2')");
        await tx.query("INSERT INTO t (id, amount) VALUES ('r2', NULL)");
      }),
    ).rejects.toMatchObject({ code: "23502", message: expect.stringMatching(/null value/) });
    expect((await sql.query("SELECT k FROM u WHERE k IN ('r1', 'r2')")).rows).toEqual([]);
  });

  it("queues other callers behind an open transaction instead of running inside it", async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((r) => (release = r));
    const tx = sql.transaction(async (t) => {
      await t.query("INSERT INTO u VALUES ('held')");
      await held;
      throw new Error("roll back");
    });
    const outside = sql.query(INSERT, [["after"], ["1"], [null], [null], [null]], { prepare: "t_insert" });
    const plain = sql.query("INSERT INTO u VALUES ('after')");
    await new Promise((r) => setTimeout(r, 50));
    release();
    await expect(tx).rejects.toThrow("roll back");
    await Promise.all([outside, plain]);
    expect((await sql.query("SELECT k FROM u WHERE k IN ('held', 'after') ORDER BY k")).rows).toEqual([{ k: "after" }]);
  });

  it("re-creates PostgreSQL errors with their code and fields", async () => {
    await sql.query("INSERT INTO u VALUES ('dup')");
    const e = await sql.query("INSERT INTO u VALUES ('dup')").catch((err: unknown) => err);
    expect(e).toBeInstanceOf(Error);
    expect(e).toMatchObject({ code: "23505", constraint: "u_pkey", message: expect.stringMatching(/duplicate key/) });
    await expect(sql.query("SELECT nope FROM u")).rejects.toMatchObject({ code: "42703" });
  });
});

describe("PGlite worker lifecycle", () => {
  it("rejects pending and later queries when the worker dies", async () => {
    const db = await startPgliteWorker(undefined);
    const pending = db.sql.query("SELECT pg_sleep(0.2)");
    await db.worker.terminate();
    await expect(pending).rejects.toThrow(/PGlite worker exited/);
    await expect(db.sql.query("SELECT 1")).rejects.toThrow(/PGlite worker exited/);
    await db.close(); // nothing left to close: still resolves
  }, 60_000);

  it("closes: the thread ends and calls reject", async () => {
    const db = await startPgliteWorker(undefined);
    expect((await db.sql.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    const exited = new Promise<number>((r) => db.worker.once("exit", r));
    await db.close();
    await exited;
    await expect(db.sql.query("SELECT 1")).rejects.toThrow(/closed/);
  }, 60_000);

  it("keeps a directory's rows across close and reopen, migrations applied once (openDatabase)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "llmgw-pglite-worker-"));
    try {
      const migrations = join(dir, "migrations");
      const { mkdirSync, writeFileSync } = await import("node:fs");
      mkdirSync(migrations);
      writeFileSync(join(migrations, "1_init.sql"), "CREATE TABLE kept (v int8 NOT NULL);\nINSERT INTO kept VALUES (1);\n");
      const set = { dir: migrations, table: "pgmigrations_test" };
      const first = await openDatabase(`pglite:${dir}/db`, { migrations: [set] });
      expect(first.kind).toBe("pglite");
      await first.sql.query("INSERT INTO kept VALUES ($1)", [2n]);
      await first.close();
      const again = await openDatabase(`pglite:${dir}/db`, { migrations: [set] });
      expect((await again.sql.query<{ v: string }>("SELECT v::text FROM kept ORDER BY v")).rows).toEqual([{ v: "1" }, { v: "2" }]);
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it("keeps an in-memory database's WAL to a few MB under sustained writes", async () => {
    const db = await startPgliteWorker(undefined, { checkpointIntervalMs: 50 });
    try {
      const walMb = async () => (await db.sql.query<{ mb: number }>("SELECT (sum(size) / 1048576)::float8 AS mb FROM pg_ls_waldir()")).rows[0]!.mb;
      expect((await db.sql.query<{ wal_segment_size: string }>("SHOW wal_segment_size")).rows[0]!.wal_segment_size).toBe("1MB");
      await db.sql.query("CREATE TABLE w (v text)");
      // ~16 MB of WAL: 16 statements of 2,000 rows of ~520 bytes.
      for (let i = 0; i < 16; i++) await db.sql.query("INSERT INTO w SELECT repeat(md5(g::text), 16) FROM generate_series(1, 2000) g");
      // PostgreSQL's 16 MB segments kept 32 MB here; checkpoints every 4 MB with 1 MB segments keep a few.
      await expect.poll(walMb, { timeout: 10_000, interval: 100 }).toBeLessThanOrEqual(6);
    } finally {
      await db.close();
    }
  }, 60_000);

  it("checkpoints on WAL volume inside the worker", async () => {
    const db = await startPgliteWorker(undefined, { checkpointIntervalMs: 50, checkpointWalBytes: 1 });
    try {
      const redo = async () => (await db.sql.query<{ r: string }>("SELECT redo_lsn::text AS r FROM pg_control_checkpoint()")).rows[0]!.r;
      const before = await redo();
      await db.sql.query("CREATE TABLE w AS SELECT g FROM generate_series(1, 1000) g");
      await expect.poll(redo, { timeout: 5_000 }).not.toBe(before);
    } finally {
      await db.close();
    }
  }, 60_000);
});
