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
import { PGlite } from "@electric-sql/pglite";
import { initPgliteDirWith, keepWasmBaseline, PGLITE_DIR_PROFILE, PGLITE_MEMORY_PROFILE, type PgliteProfile, WASM_BASELINE_FLAGS } from "./pglite-settings.ts";
import { discardTemplate, templateBytes } from "./pglite-template.ts";

export { keepWasmBaseline, PGLITE_SHARED_BUFFERS, WASM_BASELINE_FLAGS } from "./pglite-settings.ts";

/** A profile's start parameters after PGlite's defaults. */
const startParamsOf = (profile: PgliteProfile): string[] => [...PGlite.defaultStartParams, ...profile.startParams];

/**
 * Runs initdb for `dir` in a short-lived child process (a worker thread would leave its malloc arenas
 * and part of its heap behind in this process); resolves once the directory holds a database.
 */
export function initPgliteDir(dir: string): Promise<void> {
  return initPgliteDirWith(dir, PGLITE_DIR_PROFILE.startParams);
}

/**
 * A ready PGlite: on disk in `dir`, or in memory when `dir` is undefined. A new directory is initialized
 * by a child process first (or here, if that fails: the same database, more memory). A new in-memory
 * database is loaded from the machine's template (or, failing that, initialized here). Loading the
 * template into a directory would be faster, but the extraction's buffers (~110 MB) stay resident.
 */
export async function openPglite(dir: string | undefined): Promise<PGlite> {
  keepWasmBaseline();
  if (dir === undefined) {
    const memory = PGLITE_MEMORY_PROFILE;
    return (await fromTemplate(memory)) ?? PGlite.create({ startParams: startParamsOf(memory), initDbStartParams: [...memory.initdbParams] });
  }
  if (!existsSync(join(dir, "PG_VERSION"))) {
    await initPgliteDir(dir).catch(() => undefined);
  }
  return PGlite.create(dir, { startParams: startParamsOf(PGLITE_DIR_PROFILE) });
}

async function fromTemplate(profile: PgliteProfile): Promise<PGlite | undefined> {
  const bytes = await templateBytes(profile, WASM_BASELINE_FLAGS);
  if (!bytes) return undefined;
  try {
    return await PGlite.create({ startParams: startParamsOf(profile), loadDataDir: new Blob([bytes]) });
  } catch {
    discardTemplate(profile); // a damaged template: the next fresh database makes a new one
    return undefined;
  }
}
