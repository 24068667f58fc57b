// A target is measured only once it is warm again. On this host a process that has idled pays
// far more CPU per request when load returns: re-touching 200 MB that a process already owns took
// 11 ms after 5 s of rest, 42 ms after 30 s and 171 ms after 120 s (1 ms when warm; no page faults are
// counted: the hypervisor charges it), and the 7-process mesh needed ~5 s of load after 35 s idle and
// ~10 s after 120 s before its CPU per request came back (test/bench/README.md, "Warm-up"). A fixed
// warm-up short enough for one process is far too short for seven, so each target's block of slots
// starts with load until its CPU per request stops falling.
import type { LoadClient, LoadSpec } from "./load.ts";
import { cpuSnapshot } from "./procs.ts";
import { counterDelta } from "./stats.ts";

/** CPU per request in each warm-up chunk so far, oldest first. */
export type ChunkCosts = readonly number[];

/** How far above the target's own warm figure of an earlier block a flat run may lie and still count as warm. */
export const REFERENCE_SLACK = 0.3;

/**
 * Warm when the newest chunk is no more than `tolerance` below the mean of the two before it: the cost
 * has stopped falling. Three chunks at least, so that one noisy pair cannot end it; the decay after a
 * long rest has noisy plateaus (9.6, 7.8, 7.9, 5.7 ms per request), which a two-chunk rule stops on.
 * With `reference` (the cost this target settled at in an earlier block) a flat run must also lie
 * within REFERENCE_SLACK of it: a cold process can sit on a plateau for several chunks (a fresh embedded
 * gateway went 2,877, 3,478, 3,020 µs per request with 0.5 s chunks and then fell to ~700).
 */
export function isWarm(costs: ChunkCosts, minChunks = 3, tolerance = 0.05, reference?: number): boolean {
  const n = costs.length;
  if (n < Math.max(3, minChunks)) return false;
  const last = costs[n - 1] as number;
  const before = ((costs[n - 2] as number) + (costs[n - 3] as number)) / 2;
  if (!(before > 0) || !Number.isFinite(last)) return false;
  if (reference !== undefined && reference > 0 && last > reference * (1 + REFERENCE_SLACK)) return false;
  return last >= before * (1 - tolerance);
}

export interface WarmUpResult {
  seconds: number;
  costs: number[];
  /** False when the cap ended it. */
  settled: boolean;
}

/**
 * Warms a target with chunks of `spec` load from `client`, each chunk's cost the CPU per request of
 * `pids` (from /proc; a chunk without a successful request counts as not warm).
 */
export function warmUpUnderLoad(client: LoadClient, spec: Omit<LoadSpec, "origin" | "durationMs">, pids: readonly number[], opts: { chunkMs: number; minChunks: number; maxChunks: number; reference?: number }): Promise<WarmUpResult> {
  return warmUp(
    async () => {
      const before = cpuSnapshot(pids);
      const r = await client.run({ ...spec, durationMs: opts.chunkMs });
      return r.ok > 0 ? counterDelta(before, cpuSnapshot(pids)) / r.ok : Number.POSITIVE_INFINITY;
    },
    { chunkSeconds: opts.chunkMs / 1000, minChunks: opts.minChunks, maxChunks: opts.maxChunks, reference: opts.reference },
  );
}

/**
 * Runs chunks of load until isWarm() or `maxChunks`; `chunk` runs one and returns its CPU per request.
 * `reference`: the cost the same target settled at before (see isWarm).
 */
export async function warmUp(chunk: () => Promise<number>, opts: { chunkSeconds: number; minChunks: number; maxChunks: number; reference?: number | undefined }): Promise<WarmUpResult> {
  const costs: number[] = [];
  while (costs.length < opts.maxChunks) {
    costs.push(await chunk());
    if (isWarm(costs, opts.minChunks, undefined, opts.reference)) return { seconds: costs.length * opts.chunkSeconds, costs, settled: true };
  }
  return { seconds: costs.length * opts.chunkSeconds, costs, settled: false };
}
