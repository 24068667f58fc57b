import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { initPgliteDir, openPglite, PGLITE_SHARED_BUFFERS } from "./pglite-open.ts";

const root = mkdtempSync(join(tmpdir(), "llmgw-pglite-open-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("openPglite", () => {
  it("runs initdb in a child process", async () => {
    const dir = join(root, "child");
    await initPgliteDir(dir);
    expect(existsSync(join(dir, "PG_VERSION"))).toBe(true);
  }, 120_000);

  it("creates a new directory, reopens it, with the small shared_buffers", async () => {
    const dir = join(root, "ledger");
    const db = await openPglite(dir);
    await db.query("CREATE TABLE t (x int)");
    await db.query("INSERT INTO t VALUES (42)");
    expect((await db.query<{ shared_buffers: string }>("SHOW shared_buffers")).rows[0]?.shared_buffers).toBe(PGLITE_SHARED_BUFFERS);
    await db.close();
    const again = await openPglite(dir);
    expect((await again.query<{ x: number }>("SELECT x FROM t")).rows).toEqual([{ x: 42 }]);
    await again.close();
  }, 120_000);

  it("opens an in-memory database", async () => {
    const db = await openPglite(undefined);
    expect((await db.query<{ shared_buffers: string }>("SHOW shared_buffers")).rows[0]?.shared_buffers).toBe(PGLITE_SHARED_BUFFERS);
    await db.close();
  }, 120_000);
});
