// Profiles the embedded gateway under load: a fresh embedded process with `node --cpu-prof`, warmed,
// loaded at high concurrency, stopped cleanly (the profile is written at exit), then summarised.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Table from "cli-table3";
import { LoadClient } from "./load.ts";
import { inclusiveOurCode, summarizeCpuProfile, type CpuProfile, type HotSpot, type ProfileSummary } from "./profile.ts";
import { embeddedTarget } from "./targets.ts";

export interface ProfileResult extends ProfileSummary {
  inclusive: HotSpot[];
  rps: number;
  requests: number;
  errors: number;
}

export async function profileEmbedded(simUrl: string, body: string, durationMs: number, concurrency: number): Promise<ProfileResult> {
  const dir = mkdtempSync(join(tmpdir(), "llmgw-prof-"));
  const t = await embeddedTarget(simUrl, false, ["--cpu-prof", `--cpu-prof-dir=${dir}`, "--cpu-prof-interval=250"]);
  const client = new LoadClient(t.origin, concurrency);
  try {
    const spec = { path: t.path, headers: t.headers, body, concurrency };
    await client.run({ ...spec, durationMs: 3000 });
    const res = await client.run({ ...spec, durationMs });
    await client.close();
    await t.stop();
    const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
    if (!file) throw new Error(`no .cpuprofile written in ${dir}`);
    const profile = JSON.parse(readFileSync(join(dir, file), "utf8")) as CpuProfile;
    const root = process.cwd();
    const errors = Object.values(res.errors).reduce((a, b) => a + b, 0);
    return { ...summarizeCpuProfile(profile, root), inclusive: inclusiveOurCode(profile, root), rps: (res.ok * 1000) / res.elapsedMs, requests: res.ok + errors, errors };
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
  console.log(`\nProfile of the embedded gateway (whole run incl. 3 s warm-up and start): ${p.requests} measured requests at ${p.rps.toFixed(0)} req/s, ${p.errors} errors; busy ${p.busyMs.toFixed(0)} of ${p.totalMs.toFixed(0)} ms sampled`);
  console.log(table("busy time by kind", p.kinds, 10));
  console.log(table("hottest functions (self time)", p.functions, 25));
  console.log(table("our files (self time)", p.ourFiles, 15));
  console.log(table("our functions (inclusive: self + callees)", p.inclusive, 20));
  console.log(table("npm packages (self time)", p.packages, 12));
}
