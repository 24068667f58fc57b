import { PGlite } from "@electric-sql/pglite";
import { statSync, writeFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { openPglite, WASM_BASELINE_FLAGS } from "./pglite-open.ts";
import { PGLITE_MEMORY_PROFILE } from "./pglite-settings.ts";
import { discardTemplate, templateBytes, templatePath } from "./pglite-template.ts";

// Start parameters of our own, so that this file's template is not the one other tests share.
const shared = PGLITE_MEMORY_PROFILE;
const params = [...shared.startParams, "-c", `application_name=template-test-${process.pid}`];
const spec = { ...shared, startParams: params };
afterAll(() => discardTemplate(spec));

describe("PGlite template", () => {
  it("is made once by a child process, then read, and loads as a working database", async () => {
    discardTemplate(spec);
    const first = await templateBytes(spec, WASM_BASELINE_FLAGS);
    expect(first?.byteLength).toBeGreaterThan(500_000);
    const made = statSync(templatePath(spec)).mtimeMs;
    const again = await templateBytes(spec, WASM_BASELINE_FLAGS);
    expect(statSync(templatePath(spec)).mtimeMs).toBe(made);
    expect(again?.equals(first as Buffer)).toBe(true);
    const db = await PGlite.create({ startParams: [...PGlite.defaultStartParams, ...params], loadDataDir: new Blob([again as Buffer]) });
    await db.query("CREATE TABLE t (x int)");
    await db.query("INSERT INTO t VALUES (7)");
    expect((await db.query<{ x: number }>("SELECT x FROM t")).rows).toEqual([{ x: 7 }]);
    expect((await db.query<{ application_name: string }>("SHOW application_name")).rows[0]?.application_name).toBe(params.at(-1)?.split("=")[1]);
    // The in-memory profile: 1 MB WAL segments, and only the database the gateway uses.
    expect((await db.query<{ wal_segment_size: string }>("SHOW wal_segment_size")).rows[0]?.wal_segment_size).toBe("1MB");
    expect((await db.query<{ datname: string }>("SELECT datname FROM pg_database")).rows).toEqual([{ datname: "postgres" }]);
    await db.close();
  }, 120_000);

  it("depends on initdb's arguments as well as the start parameters", () => {
    expect(templatePath({ ...spec, initdbParams: [] })).not.toBe(templatePath(spec));
  });

  it("a damaged shared template is replaced, and the database still opens", async () => {
    const sharedPath = templatePath(shared);
    writeFileSync(sharedPath, "not a tar file");
    const db = await openPglite(undefined);
    expect((await db.query<{ one: number }>("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    await db.close();
    // Discarded (not asserted: a test file running in parallel may already have made it again); the
    // next fresh database makes a valid one.
    const next = await openPglite(undefined);
    await next.close();
    expect(statSync(sharedPath).size).toBeGreaterThan(500_000);
  }, 120_000);
});
