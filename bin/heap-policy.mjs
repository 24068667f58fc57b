// V8 heap policy for every gateway process (npm start, each mesh process, the Docker image, the bench's
// gateways). Node's default lets the old generation grow to ~3-4x the live heap under a high
// allocation rate, and the pages stay resident after the collection: under a soak the embedded
// gateway's RSS climbed from ~190 MB to 420-460 MB with a live heap of 60-80 MB. Growing the heap by
// 30% per step keeps RSS within ~90 MB of idle at the same request rate (test/bench/README.md, soak).
// Set at run time (not a node flag) so that one place covers every way a process is started.
import { setFlagsFromString } from "node:v8";

export const HEAP_FLAGS = ["--heap-growing-percent=30"];

export function applyHeapPolicy() {
  for (const flag of HEAP_FLAGS) setFlagsFromString(flag);
}
