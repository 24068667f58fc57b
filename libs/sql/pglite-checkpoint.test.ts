import { describe, expect, it } from "vitest";
import { checkpointOnWal } from "./pglite-checkpoint.ts";
import { openPglite } from "./pglite-open.ts";

describe("checkpointOnWal", () => {
  it("checkpoints PGlite once enough WAL has accumulated, and not before", async () => {
    const db = await openPglite(undefined);
    try {
      const redo = async () => (await db.query<{ redo: string }>("SELECT redo_lsn::text AS redo FROM pg_control_checkpoint()")).rows[0]!.redo;
      const segments = async () => (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_ls_waldir()")).rows[0]!.n;
      const stop = checkpointOnWal(db, { intervalMs: 20, walBytes: 4 * 1024 * 1024 });
      const before = await redo();
      await db.exec("CREATE TABLE t (x text)");
      await new Promise((r) => setTimeout(r, 100));
      expect(await redo()).toBe(before); // a few KB of WAL: no checkpoint

      // ~40 MB of WAL in memory (no checkpointer in single-user mode would ever recycle it)
      await db.exec("INSERT INTO t SELECT repeat('x', 1000) FROM generate_series(1, 30000)");
      await db.exec("INSERT INTO t SELECT repeat('y', 1000) FROM generate_series(1, 30000)");
      const grown = await segments();
      const deadline = Date.now() + 10_000;
      while ((await redo()) === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(await redo()).not.toBe(before);
      // the next segments come from recycled ones: writing as much again adds no new files
      await db.exec("INSERT INTO t SELECT repeat('z', 1000) FROM generate_series(1, 30000)");
      await new Promise((r) => setTimeout(r, 200));
      expect(await segments()).toBeLessThanOrEqual(grown);
      stop();
    } finally {
      await db.close();
    }
  }, 60_000);
});
