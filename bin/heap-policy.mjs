// V8 heap policy for every gateway process (npm start, each mesh process, the Docker image, the bench's
// gateways). Node's default lets the old generation grow to ~3-4x the live heap under a high
// allocation rate, and the pages stay resident after the collection: under a soak the embedded
// gateway's RSS climbed from ~190 MB to 420-460 MB with a live heap of 60-80 MB. Growing the heap by
// 30% per step keeps RSS within ~90 MB of idle at the same request rate (test/bench/README.md, soak).
// Set at run time (not a node flag) so that one place covers every way a process is started.
//
// glibc malloc cannot be tuned from here (it reads its environment once, at start), so the launchers
// (`npm start`, `npm run mesh`, the Dockerfile) set MALLOC_TRIM_THRESHOLD_=131072. Any explicit threshold
// turns off glibc's dynamic one: by default, freeing a large mmap'ed block at start-up (a WASM module's
// bytes, a file read whole) raises the mmap threshold to that block's size and the trim threshold to
// twice it, so later buffers of up to ~9 MB land in the main heap and what start-up frees there is kept.
// Fixed at glibc's own defaults (128 kB), the embedded gateway's idle RSS is ~13 MB lower on disk and
// ~15 MB lower with the in-memory ledger (`npm run bench:rss`); no CPU cost was visible at c=32 (noisy machine).
import { setFlagsFromString } from "node:v8";

export const HEAP_FLAGS = ["--heap-growing-percent=30"];

// Until start-up ends the young generation does not grow. Start-up keeps most of what it allocates, so
// V8 doubled the semi-spaces to their 16 MB maximum on most starts (new space 29-32 MB committed, ~4 MB
// used at rest) and an idle process does not shrink them for 30 s or more: 20-25 MB of the idle RSS.
// Requests under load grow it as before once startupDone() restores V8's default growth factor.
const STARTUP_FLAGS = ["--semi-space-growth-factor=1"];
const AFTER_STARTUP_FLAGS = ["--semi-space-growth-factor=2"];
/** Restored by then even if no composition calls startupDone() (a CLI, a process that never listens). */
const STARTUP_LIMIT_MS = 60_000;
// On globalThis, not in this module: the launcher and the bundle it imports each hold a copy of this file.
const IN_STARTUP = Symbol.for("llmgw.heap-policy.in-startup");

export function applyHeapPolicy() {
  for (const flag of HEAP_FLAGS) setFlagsFromString(flag);
  for (const flag of STARTUP_FLAGS) setFlagsFromString(flag);
  globalThis[IN_STARTUP] = true;
  setTimeout(startupDone, STARTUP_LIMIT_MS).unref();
}

/** Start-up is over (the gateway listens): the young generation may grow with the load again. */
export function startupDone() {
  if (globalThis[IN_STARTUP] !== true) return;
  globalThis[IN_STARTUP] = false;
  for (const flag of AFTER_STARTUP_FLAGS) setFlagsFromString(flag);
}
