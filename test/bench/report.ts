// Terminal tables for the overhead benchmark (stdout, so `> file` keeps only the figures).
import Table from "cli-table3";
import type { Comparison, Ratio, Run } from "./stats.ts";

const f = (v: number | undefined, digits: number): string => (v === undefined || Number.isNaN(v) ? "-" : v.toFixed(digits));

export function printRuns(runs: readonly Run[]): void {
  const t = new Table({
    style: { head: [], border: [] },
    head: ["target", "variant", "model", "conc", "req/s", "p50 ms", "p99 ms", "added p50 ms", "errors", "target CPU µs/req", "page faults/req", "infra CPU µs/req", "peak RSS MB", "idle RSS MB", "loadgen CPU µs/req", "sim calls/req", "warm-up s", "cold CPU µs/req"],
  });
  const order = ["direct", "bare", "embedded", "mesh", "portkey"];
  const sorted = [...runs].sort((a, b) => a.concurrency - b.concurrency || order.indexOf(a.target) - order.indexOf(b.target) || a.variant.localeCompare(b.variant) || a.model.localeCompare(b.model));
  for (const r of sorted) {
    t.push([
      r.target,
      r.variant,
      r.model,
      r.concurrency,
      f(r.rps, 0),
      f(r.p50_ms, 3),
      f(r.p99_ms, 3),
      f(r.added_p50_ms, 3),
      r.errors ? `${r.errors} ${JSON.stringify(r.error_kinds)}` : "0",
      f(r.target_cpu_us_per_req, 0),
      f(r.target_faults_per_req, 2),
      f(r.infra_cpu_us_per_req, 0),
      f(r.rss_mb, 0),
      f(r.idle_rss_mb, 0),
      f(r.loadgen_cpu_us_per_req, 0),
      f(r.sim_calls_per_req, 2),
      r.warmup_s === undefined ? "-" : `${f(r.warmup_s, 1)}${r.warmups_capped ? ` (${r.warmups_capped} capped)` : ""}`,
      f(r.cold_cpu_us_per_req, 0),
    ]);
  }
  console.log(t.toString());
  // Where a multi-process target's CPU goes: one line per row, heaviest process first.
  for (const r of runs) {
    const by = r.target_cpu_us_per_req_by_process;
    if (!by) continue;
    const parts = Object.entries(by).sort((a, b) => b[1] - a[1]).map(([n, us]) => `${n} ${us.toFixed(0)}`);
    console.log(`${r.target}/${r.variant}/${r.model} c=${r.concurrency} CPU µs/req by process: ${parts.join(", ")}`);
  }
  // A one-process target: how much of its CPU the event loop itself spends.
  for (const r of runs) {
    const main = r.target_main_thread_cpu_us_per_req;
    if (main === undefined || r.target_cpu_us_per_req === undefined) continue;
    // 10 ms ticks on both sides: a process with next to nothing off its main thread can come out a few µs below 0.
    const rest = Math.max(0, r.target_cpu_us_per_req - main);
    console.log(`${r.target}/${r.variant}/${r.model} c=${r.concurrency} CPU µs/req: main thread ${main.toFixed(0)}, other threads (GC, PGlite worker, libuv) ${rest.toFixed(0)}`);
  }
}

export function printRatios(ratios: readonly Ratio[]): void {
  const t = new Table({ style: { head: [], border: [] }, head: ["project target", "measured", "goal", "met", "basis"] });
  for (const r of ratios) t.push([r.name, f(r.value, 3), r.target, r.met === undefined ? "n/a" : r.met ? "yes" : "NO", r.basis]);
  console.log(t.toString());
}

/** Every row against Portkey and against the bare Node proxy, one line per row, both references side by side. */
export function printComparisons(cmp: readonly Comparison[]): void {
  if (!cmp.length) return;
  const refs = (["portkey", "bare"] as const).filter((vs) => cmp.some((c) => c.vs === vs));
  const metrics = [
    ["req/s", "rps_ratio"],
    ["CPU/req", "cpu_ratio"],
    ["peak RSS", "rss_ratio"],
    ["idle RSS", "idle_rss_ratio"],
  ] as const;
  const head = ["target", "variant", "model", "conc"];
  for (const [label] of metrics) for (const vs of refs) head.push(`${label} ÷ ${vs}`);
  const t = new Table({ style: { head: [], border: [] }, head });
  const keys = [...new Set(cmp.map((c) => `${c.target}\u0000${c.variant}\u0000${c.model}\u0000${c.concurrency}`))];
  for (const k of keys) {
    const [target, variant, model, conc] = k.split("\u0000") as [string, string, string, string];
    const line: (string | number)[] = [target, variant, model, conc];
    for (const [, field] of metrics) {
      for (const vs of refs) {
        const c = cmp.find((x) => x.vs === vs && x.target === target && x.variant === variant && x.model === model && String(x.concurrency) === conc);
        line.push(c ? f(c[field], 2) : "");
      }
    }
    t.push(line);
  }
  console.log("\nEach row against Portkey and against the bare Node proxy (req/s above 1 = faster; CPU/req and RSS below 1 = cheaper):");
  console.log(t.toString());
}
