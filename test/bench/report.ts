// Terminal tables for the overhead benchmark (stdout, so `> file` keeps only the figures).
import Table from "cli-table3";
import type { Ratio, Run } from "./stats.ts";

const f = (v: number | undefined, digits: number): string => (v === undefined || Number.isNaN(v) ? "-" : v.toFixed(digits));

export function printRuns(runs: readonly Run[]): void {
  const t = new Table({
    style: { head: [], border: [] },
    head: ["target", "variant", "model", "conc", "req/s", "p50 ms", "p99 ms", "added p50 ms", "errors", "target CPU µs/req", "loadgen CPU µs/req", "sim calls/req"],
  });
  const order = ["direct", "embedded", "mesh", "portkey"];
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
      f(r.loadgen_cpu_us_per_req, 0),
      f(r.sim_calls_per_req, 2),
    ]);
  }
  console.log(t.toString());
}

export function printRatios(ratios: readonly Ratio[]): void {
  const t = new Table({ style: { head: [], border: [] }, head: ["project target", "measured", "goal", "met", "basis"] });
  for (const r of ratios) t.push([r.name, f(r.value, 3), r.target, r.met === undefined ? "n/a" : r.met ? "yes" : "NO", r.basis]);
  console.log(t.toString());
}
