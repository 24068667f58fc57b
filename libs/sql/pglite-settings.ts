// PGlite's settings for the embedded ledger, and initdb in a child process: the parts of pglite-open.ts
// that do not load PGlite itself, so that the main thread of a gateway whose PGlite runs in a worker
// (pglite-worker-client.ts) does not load PGlite's JavaScript too (~6 MB resident).
import { setFlagsFromString } from "node:v8";
import { CHECKPOINT_WAL_BYTES, MEMORY_CHECKPOINT_WAL_BYTES } from "./pglite-checkpoint.ts";
import { runPgliteScript } from "./pglite-child.ts";

/** shared_buffers of the embedded ledger (resident from start, so kept small). */
export const PGLITE_SHARED_BUFFERS = "8MB";

/** Appended to PGlite.defaultStartParams by both profiles below. */
const PGLITE_EXTRA_START_PARAMS: readonly string[] = ["-c", `shared_buffers=${PGLITE_SHARED_BUFFERS}`];

/**
 * How a database is made and started: initdb's arguments (PGlite's initDbStartParams), the backend's
 * start parameters appended to PGlite.defaultStartParams, and the WAL volume that triggers a CHECKPOINT.
 */
export interface PgliteProfile {
  initdbParams: readonly string[];
  startParams: readonly string[];
  checkpointWalBytes: number;
}

/** A database in a directory: PostgreSQL's defaults but for shared_buffers. */
export const PGLITE_DIR_PROFILE: PgliteProfile = { initdbParams: [], startParams: PGLITE_EXTRA_START_PARAMS, checkpointWalBytes: CHECKPOINT_WAL_BYTES };

/**
 * An in-memory database holds its WAL in memory too. PostgreSQL's 16 MB segments kept 16 MB resident at
 * rest and 32 MB after sustained writes (recycled segments); 1 MB segments with min_wal_size and
 * max_wal_size at 2 MB keep a few MB in both cases. Both sizes must be at least two segments, so they
 * are only valid with the segment size: hence one profile.
 */
export const PGLITE_MEMORY_PROFILE: PgliteProfile = {
  initdbParams: ["--wal-segsize=1"],
  startParams: [...PGLITE_EXTRA_START_PARAMS, "-c", "min_wal_size=2MB", "-c", "max_wal_size=2MB"],
  checkpointWalBytes: MEMORY_CHECKPOINT_WAL_BYTES,
};

/**
 * V8 flags that keep WebAssembly in its baseline compiler (Liftoff), without tier-up to TurboFan. For the
 * 9 MB postgres module, tier-up costs ~65 MB of resident memory in the gateway (optimized code plus the
 * compile threads' allocations, which glibc keeps), while the ledger's inserts run as fast and scans
 * ~15% slower. Process-wide (worker threads included); the only other WASM in the gateway is undici's HTTP parser.
 */
export const WASM_BASELINE_FLAGS = ["--no-wasm-dynamic-tiering", "--no-wasm-tier-up"];

let baselineSet = false;

/** Applies WASM_BASELINE_FLAGS to this process, once, before the first PGlite compiles. */
export function keepWasmBaseline(): void {
  if (baselineSet) return;
  baselineSet = true;
  for (const flag of WASM_BASELINE_FLAGS) setFlagsFromString(flag);
}

// Plain JS (no tsx needed): creates the database directory, then the process exits.
const INIT_SCRIPT = `
const [pglite, dir, params] = process.argv.slice(1);
const { PGlite } = await import(pglite);
const db = await PGlite.create(dir, { startParams: [...PGlite.defaultStartParams, ...JSON.parse(params)] });
await db.close();
`;

/** initdb for `dir` with these start parameters (appended to PGlite's defaults), in a short-lived child process (see initPgliteDir). */
export function initPgliteDirWith(dir: string, startParams: readonly string[]): Promise<void> {
  return runPgliteScript(`PGlite initdb in ${dir}`, INIT_SCRIPT, [dir, JSON.stringify(startParams)], WASM_BASELINE_FLAGS);
}
