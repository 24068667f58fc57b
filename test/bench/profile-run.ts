// Profiles our gateway under load (embedded, or the in-process mesh): a fresh process, warmed, then the V8 profiler is
// switched on (SIGUSR2) for exactly the measured window and the profile summarised, so start-up and
// warm-up (tokenizer load, JIT) are not in it.
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Table from "cli-table3";
import { LoadClient } from "./load.ts";
import { inclusiveOurCode, summarizeCpuProfile, type CpuProfile, type HotSpot, type ProfileSummary } from "./profile.ts";
import { embeddedTarget, meshInProcessTarget } from "./targets.ts";

export interface ProfileResult extends ProfileSummary {
  target: "embedded" | "mesh";
  inclusive: HotSpot[];
  concurrency: number;
  rps: number;
  requests: number;
  errors: number;
  /** Profiled busy CPU per request, microseconds. */
  busy_us_per_req: number;
}

export async function profileGateway(which: "embedded" | "mesh", simUrl: string, body: string, durationMs: number, concurrency: number, keepAs?: string): Promise<ProfileResult> {
  const dir = mkdtempSync(join(tmpdir(), "llmgw-prof-"));
  const file = join(dir, `${which}.cpuprofile`);
  const env = { BENCH_CPU_PROFILE: file };
  const t = which === "embedded" ? await embeddedTarget(simUrl, false, env) : await meshInProcessTarget(simUrl, false, env);
  const child = t.child;
  if (!child) throw new Error(`${which} target has no child process`);
  const waitLine = (key: string): Promise<void> =>
    new Promise((resolve) => child.onLine((l) => { if (l.includes(`"${key}"`)) resolve(); }));
  const client = new LoadClient(t.origin, concurrency);
  try {
    const spec = { path: t.path, headers: t.headers, body, concurrency };
    await client.run({ ...spec, durationMs: 3000 });
    const on = waitLine("profiling");
    child.proc.kill("SIGUSR2");
    await on;
    const res = await client.run({ ...spec, durationMs });
    const off = waitLine("profile");
    child.proc.kill("SIGUSR2");
    await off;
    if (keepAs) copyFileSync(file, keepAs);
    const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
    const root = process.cwd();
    const errors = Object.values(res.errors).reduce((a, b) => a + b, 0);
    const summary = summarizeCpuProfile(profile, root);
    return {
      target: which,
      ...summary,
      inclusive: inclusiveOurCode(profile, root),
      concurrency,
      rps: (res.ok * 1000) / res.elapsedMs,
      requests: res.ok + errors,
      errors,
      busy_us_per_req: res.ok > 0 ? (summary.busyMs * 1000) / res.ok : Number.NaN,
    };
  } finally {
    await client.close().catch(() => undefined);
    await t.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

function table(title: string, rows: readonly HotSpot[], n: number): string {
  const t = new Table({ style: { head: [], border: [] }, head: [title, "self ms", "% busy"] });
  for (const r of rows.slice(0, n)) t.push([r.where, r.selfMs.toFixed(0), r.pct.toFixed(1)]);
  return t.toString();
}

export function printProfile(p: ProfileResult): void {
  console.log(
    `\nProfile of the ${p.target === "mesh" ? "in-process mesh (all services in one process)" : "embedded gateway"}, measured window only: ${p.requests} requests at c=${p.concurrency}, ${p.rps.toFixed(0)} req/s, ${p.errors} errors; ` +
      `busy ${p.busyMs.toFixed(0)} of ${p.totalMs.toFixed(0)} ms sampled = ${p.busy_us_per_req.toFixed(0)} µs busy per request`,
  );
  console.log(table("busy time by kind", p.kinds, 10));
  console.log(table("hottest functions (self time)", p.functions, 30));
  console.log(table("our files (self time)", p.ourFiles, 15));
  console.log(table("our functions (inclusive: self + callees)", p.inclusive, 25));
  console.log(table("npm packages (self time)", p.packages, 12));
}
