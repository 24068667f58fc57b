// Pure figures for the overhead benchmark: percentiles over exact samples (no histogram buckets, so a
// 0.05 ms difference is visible), one result row per (target, concurrency), and the project's ratios.

export interface Sample {
  /** Latency of each completed request, milliseconds. */
  latenciesMs: number[];
  ok: number;
  /** Non-2xx responses and transport errors, by status ("ECONNRESET" etc. for transport errors). */
  errors: Record<string, number>;
  elapsedMs: number;
}

export interface Run {
  target: "direct" | "embedded" | "mesh" | "portkey";
  /** What exactly ran under that target name, e.g. "in-process", "processes". */
  variant: string;
  model: string;
  concurrency: number;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  mean_ms: number;
  requests: number;
  errors: number;
  error_kinds: Record<string, number>;
  /** p50 minus direct's p50 at the same concurrency. */
  added_p50_ms?: number;
  /** CPU the target's own processes spent per request (simulator excluded), microseconds. */
  target_cpu_us_per_req?: number;
  /** CPU the load generator spent per request, microseconds. */
  loadgen_cpu_us_per_req?: number;
  /** Provider calls the simulator saw per successful request (1 = no cache, no retry, no cascade). */
  sim_calls_per_req?: number;
}

/** Nearest-rank percentile over an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

export function mergeSamples(samples: readonly Sample[]): Sample {
  const errors: Record<string, number> = {};
  for (const s of samples) for (const [k, v] of Object.entries(s.errors)) errors[k] = (errors[k] ?? 0) + v;
  return {
    latenciesMs: samples.flatMap((s) => s.latenciesMs),
    ok: samples.reduce((n, s) => n + s.ok, 0),
    errors,
    elapsedMs: samples.reduce((n, s) => n + s.elapsedMs, 0),
  };
}

export function summarize(base: Pick<Run, "target" | "variant" | "model" | "concurrency">, s: Sample): Run {
  const sorted = [...s.latenciesMs].sort((a, b) => a - b);
  const errorCount = Object.values(s.errors).reduce((a, b) => a + b, 0);
  const mean = sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : Number.NaN;
  return {
    ...base,
    // Throughput counts successes only: a fast 500 is not a served request.
    rps: s.elapsedMs > 0 ? (s.ok * 1000) / s.elapsedMs : 0,
    p50_ms: percentile(sorted, 50),
    p99_ms: percentile(sorted, 99),
    mean_ms: mean,
    requests: s.ok + errorCount,
    errors: errorCount,
    error_kinds: s.errors,
  };
}

/** Fills added_p50_ms against the direct row of the same concurrency. */
export function withAddedLatency(runs: readonly Run[]): Run[] {
  return runs.map((r) => {
    const d = runs.find((x) => x.target === "direct" && x.concurrency === r.concurrency);
    return d && r.target !== "direct" ? { ...r, added_p50_ms: r.p50_ms - d.p50_ms } : r;
  });
}

export interface Ratio {
  name: string;
  value: number | undefined;
  target: string;
  met: boolean | undefined;
  basis: string;
}

function find(runs: readonly Run[], target: Run["target"], variant: string | undefined, concurrency: number): Run | undefined {
  return runs.find((r) => r.target === target && r.concurrency === concurrency && r.model !== "auto" && (variant === undefined || r.variant === variant));
}

/** The project's targets: embedded >= 3x Portkey, embedded added p50 at c=1 < 0.3 ms, mesh > 1x Portkey. */
export function projectRatios(runs: readonly Run[], highConcurrency: number): Ratio[] {
  const out: Ratio[] = [];
  const pk = find(runs, "portkey", undefined, highConcurrency);
  const emb = find(runs, "embedded", undefined, highConcurrency);
  const thr = (a: Run | undefined, b: Run | undefined): number | undefined => (a && b && b.rps > 0 ? a.rps / b.rps : undefined);
  const cpu = (a: Run | undefined, b: Run | undefined): number | undefined =>
    a?.target_cpu_us_per_req && b?.target_cpu_us_per_req ? b.target_cpu_us_per_req / a.target_cpu_us_per_req : undefined;
  const v = thr(emb, pk);
  out.push({ name: "embedded rps / portkey rps", value: v, target: ">= 3", met: v === undefined ? undefined : v >= 3, basis: `measured req/s, c=${highConcurrency}` });
  const vc = cpu(emb, pk);
  out.push({ name: "portkey CPU/req / embedded CPU/req", value: vc, target: ">= 3", met: vc === undefined ? undefined : vc >= 3, basis: "gateway process CPU per request (capacity per core; immune to the shared 2 cores)" });
  const e1 = find(runs, "embedded", undefined, 1);
  const added = e1?.added_p50_ms;
  out.push({ name: "embedded added p50 vs direct (ms)", value: added, target: "< 0.3", met: added === undefined ? undefined : added < 0.3, basis: "p50 difference, c=1" });
  for (const variant of ["in-process", "processes"]) {
    const m = find(runs, "mesh", variant, highConcurrency);
    if (!m) continue;
    const mv = thr(m, pk);
    out.push({ name: `mesh (${variant}) rps / portkey rps`, value: mv, target: "> 1", met: mv === undefined ? undefined : mv > 1, basis: `measured req/s, c=${highConcurrency}` });
  }
  return out;
}
