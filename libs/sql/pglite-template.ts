// A fresh PGlite database without running initdb in this process. initdb is the expensive part of a new
// PGlite (1.5-4 s, and ~450 MB of WASM memory and compiled code that stays resident until a major GC):
// it runs once per machine, in a child process that dumps the new data directory as a gzipped tar file (2 MB)
// into the OS temp directory. Every later fresh database (each in-memory gateway, each test) loads that
// file instead (~0.5 s). Gzipped rather than plain (11 MB): PGlite keeps the loaded file in memory. The
// file's name carries PGlite's version, the start parameters and initdb's arguments, so an upgrade or
// another setting makes a new one; a file that fails to load is removed and made again.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, renameSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { runPgliteScript } from "./pglite-child.ts";
import type { PgliteProfile } from "./pglite-settings.ts";

const require = createRequire(import.meta.url);

/** PGlite's package version (part of the template's identity). */
function pgliteVersion(): string {
  const entry = require.resolve("@electric-sql/pglite");
  // The package root is the nearest folder above the entry holding package.json with this name.
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "@electric-sql/pglite" && pkg.version) return pkg.version;
    } catch {
      // no package.json at this level
    }
  }
  return "unknown";
}

/** Changes when the template's contents change for the same parameters (2: without template0 and template1). */
const LAYOUT = "2";

/**
 * Where the template for this profile lives. Its start parameters are appended to PGlite's defaults,
 * which PGlite's version (part of the name) fixes: naming a template does not load PGlite.
 */
export function templatePath(spec: PgliteProfile, root: string = tmpdir()): string {
  const id = createHash("sha256").update(pgliteVersion()).update("\0").update(LAYOUT).update("\0").update(spec.startParams.join("\0")).update("\0\0").update(spec.initdbParams.join("\0")).digest("hex").slice(0, 16);
  return join(root, `llmgw-pglite-template-${id}.tar.gz`);
}

// Plain JS (no tsx needed): initdb in memory, then the data directory as a gzipped tar. The gateway
// only uses the "postgres" database: template0 and template1 are dropped (15 MB of the 30 MB an
// in-memory database would otherwise hold at rest). So CREATE DATABASE fails in such a database.
const DUMP_SCRIPT = `
import { writeFileSync } from "node:fs";
const [pglite, out, params, initdbParams] = process.argv.slice(1);
const { PGlite } = await import(pglite);
const db = await PGlite.create({ startParams: [...PGlite.defaultStartParams, ...JSON.parse(params)], initDbStartParams: JSON.parse(initdbParams) });
for (const t of ["template0", "template1"]) {
  await db.query("ALTER DATABASE " + t + " IS_TEMPLATE false");
  await db.query("DROP DATABASE " + t);
}
// The WAL of initdb and the drops: each segment switch + CHECKPOINT lets PostgreSQL remove older segments
// (recycled ones count toward max_wal_size).
for (let i = 0; i < 4; i++) {
  await db.query("SELECT pg_switch_wal()");
  await db.query("CHECKPOINT");
}
const blob = await db.dumpDataDir("gzip");
writeFileSync(out, Buffer.from(await blob.arrayBuffer()));
await db.close();
`;

/** Writes the template in a child process; concurrent writers each write their own file, then rename. */
export async function makeTemplate(path: string, spec: PgliteProfile, nodeFlags: readonly string[]): Promise<void> {
  const tmp = `${path}.${process.pid}.${Date.now()}.partial`;
  try {
    await runPgliteScript("PGlite template dump", DUMP_SCRIPT, [tmp, JSON.stringify(spec.startParams), JSON.stringify(spec.initdbParams)], nodeFlags);
    renameSync(tmp, path); // atomic: readers see the whole file or none
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** The template's bytes, made first if missing; undefined if it cannot be made (the caller runs initdb). */
export async function templateBytes(spec: PgliteProfile, nodeFlags: readonly string[]): Promise<Buffer | undefined> {
  const path = await templateFile(spec, nodeFlags);
  try {
    return path === undefined ? undefined : readFileSync(path);
  } catch {
    return undefined;
  }
}

/** The template's path, made first if missing; undefined if it cannot be made (the caller runs initdb). */
export async function templateFile(spec: PgliteProfile, nodeFlags: readonly string[]): Promise<string | undefined> {
  const path = templatePath(spec);
  if (existsSync(path)) return path;
  try {
    await makeTemplate(path, spec, nodeFlags);
    return path;
  } catch {
    return undefined;
  }
}

/** Removes a template that failed to load, so that the next fresh database makes it again. */
export function discardTemplate(spec: PgliteProfile): void {
  rmSync(templatePath(spec), { force: true });
}
