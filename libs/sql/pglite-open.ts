// Opens PGlite (the embedded ledger) with a memory footprint fit for one small process.
//  - WASM stays in V8's baseline compiler (see WASM_BASELINE_FLAGS).
//  - shared_buffers: PGlite's initdb writes PostgreSQL's 128 MB default, and the WASM postgres touches
//    all of it at start, so it is 128 MB of resident memory for a ledger that is a few MB at rest.
//    PGLITE_SHARED_BUFFERS is enough for the embedded ledger's working set; PGlite's data directory is
//    on disk (the OS page cache holds what does not fit).
//  - A new database: initdb runs in a second, throwaway PGlite instance plus the initdb WASM module;
//    inside this process their ~450 MB (WASM memories, compiled code) would stay resident until a major
//    GC, which an idle server may never run, and ~100 MB stays even after one (allocator
//    fragmentation). So it runs in a child process: for a directory, initdb itself; for memory, once
//    per machine, making a template that every later in-memory database loads (pglite-template.ts).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { PGlite } from "@electric-sql/pglite";
import { runPgliteScript } from "./pglite-child.ts";
import { discardTemplate, templateBytes } from "./pglite-template.ts";

/** shared_buffers of the embedded ledger (resident from start, so kept small). */
export const PGLITE_SHARED_BUFFERS = "8MB";

/**
 * V8 flags that keep WebAssembly in its baseline compiler (Liftoff), without tier-up to TurboFan. For the
 * 9 MB postgres module, tier-up costs ~65 MB of resident memory in the gateway (optimized code plus the
 * compile threads' allocations, which glibc keeps), while the ledger's inserts run as fast and scans
 * ~15% slower. Process-wide; the only other WASM in the gateway is undici's HTTP parser.
 */
export const WASM_BASELINE_FLAGS = ["--no-wasm-dynamic-tiering", "--no-wasm-tier-up"];

let baselineSet = false;

/** Applies WASM_BASELINE_FLAGS to this process, once, before the first PGlite compiles. */
export function keepWasmBaseline(): void {
  if (baselineSet) return;
  baselineSet = true;
  for (const flag of WASM_BASELINE_FLAGS) setFlagsFromString(flag);
}

/** PGlite's start parameters with the small shared_buffers. */
export function pgliteStartParams(): string[] {
  return [...PGlite.defaultStartParams, "-c", `shared_buffers=${PGLITE_SHARED_BUFFERS}`];
}

// Plain JS (no tsx needed): creates the database directory, then the process exits.
const INIT_SCRIPT = `
const [pglite, dir, params] = process.argv.slice(1);
const { PGlite } = await import(pglite);
const db = await PGlite.create(dir, { startParams: JSON.parse(params) });
await db.close();
`;

/**
 * Runs initdb for `dir` in a short-lived child process (a worker thread would leave its malloc arenas
 * and part of its heap behind in this process); resolves once the directory holds a database.
 */
export function initPgliteDir(dir: string): Promise<void> {
  return runPgliteScript(`PGlite initdb in ${dir}`, INIT_SCRIPT, [dir, JSON.stringify(pgliteStartParams())], WASM_BASELINE_FLAGS);
}

/**
 * A ready PGlite: on disk in `dir`, or in memory when `dir` is undefined. A new directory is initialized
 * by a child process first (or here, if that fails: the same database, more memory). A new in-memory
 * database is loaded from the machine's template (or, failing that, initialized here). Loading the
 * template into a directory would be faster, but the extraction's buffers (~110 MB) stay resident.
 */
export async function openPglite(dir: string | undefined): Promise<PGlite> {
  keepWasmBaseline();
  const startParams = pgliteStartParams();
  if (dir === undefined) return (await fromTemplate(startParams)) ?? PGlite.create({ startParams });
  if (!existsSync(join(dir, "PG_VERSION"))) {
    await initPgliteDir(dir).catch(() => undefined);
  }
  return PGlite.create(dir, { startParams });
}

async function fromTemplate(startParams: string[]): Promise<PGlite | undefined> {
  const bytes = await templateBytes(startParams, WASM_BASELINE_FLAGS);
  if (!bytes) return undefined;
  try {
    return await PGlite.create({ startParams, loadDataDir: new Blob([bytes]) });
  } catch {
    discardTemplate(startParams); // a damaged template: the next fresh database makes a new one
    return undefined;
  }
}
