// The cache-hit path end to end through the edge: the same request sent with the cache on (after one
// miss fills it, every request is an exact hit) and off (every request reaches the provider), side by
// side against one embedded gateway process, at concurrency 1 and 32.
//   npm run bench:cache-hit -- [--duration S] [--json FILE]
import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { LoadClient } from "./load.ts";
import { processCpuUs, settle, startSimulator, stopChild } from "./procs.ts";
import { percentile } from "./stats.ts";
import { CHAT_PATH, embeddedTarget } from "./targets.ts";

const { values: opts } = parseArgs({ options: { duration: { type: "string", default: "4" }, json: { type: "string" } } });
const body = JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "What is the capital of France? Answer in one sentence." }], max_tokens: 512 });

// The simulator's default latency, unlike the overhead bench: a hit is compared with a real call.
const sim = await startSimulator({});
const gw = await embeddedTarget(sim.url, false);
const client = new LoadClient(gw.origin, 32);
const rows: { cache: string; concurrency: number; rps: number; p50_ms: number; p99_ms: number; cpu_us_per_req: number; header: string }[] = [];
try {
  const base = { ...gw.headers };
  delete base["x-llmgw-cache"];
  const variants = { hit: base, off: { ...base, "x-llmgw-cache": "off" } };
  // Fill the cache, then make sure the next request is an exact hit.
  // (the store happens after the answer is sent, so the first hit may take a moment).
  let header = "";
  for (let i = 0; i < 20 && header !== "hit-exact"; i++) {
    const probe = await client.one({ path: CHAT_PATH, headers: variants.hit, body });
    header = String(probe.headers["x-llmgw-cache"] ?? "");
    if (header !== "hit-exact") await new Promise((r) => setTimeout(r, 100));
  }
  if (header !== "hit-exact") throw new Error(`expected an exact hit, got x-llmgw-cache: ${header}`);
  for (const c of [1, 32]) {
    for (const [name, headers] of Object.entries(variants)) {
      await client.run({ path: CHAT_PATH, headers, body, concurrency: c, durationMs: 1_000 });
      await settle([...gw.pids, sim.child.pid]);
      const cpu0 = gw.pids.reduce((s, p) => s + processCpuUs(p), 0);
      const r = await client.run({ path: CHAT_PATH, headers, body, concurrency: c, durationMs: Number(opts.duration) * 1000 });
      const cpu = gw.pids.reduce((s, p) => s + processCpuUs(p), 0) - cpu0;
      const sorted = [...r.latenciesMs].sort((a, b) => a - b);
      const errors = Object.values(r.errors).reduce((a, b) => a + b, 0);
      if (errors > 0) throw new Error(`${name} c=${c}: ${errors} errors ${JSON.stringify(r.errors)}`);
      rows.push({ cache: name, concurrency: c, rps: Math.round((r.ok * 1000) / r.elapsedMs), p50_ms: percentile(sorted, 50), p99_ms: percentile(sorted, 99), cpu_us_per_req: Math.round(cpu / r.ok), header: name === "hit" ? "hit-exact" : "bypass" });
    }
  }
} finally {
  await client.close();
  await gw.stop();
  await stopChild(sim.child);
}
console.table(rows.map((r) => ({ ...r, p50_ms: r.p50_ms.toFixed(3), p99_ms: r.p99_ms.toFixed(3) })));
for (const c of [1, 32]) {
  const hit = rows.find((r) => r.cache === "hit" && r.concurrency === c);
  const off = rows.find((r) => r.cache === "off" && r.concurrency === c);
  if (hit && off) console.log(`c=${c}: hit/off throughput ${(hit.rps / off.rps).toFixed(2)}x, CPU per request ${(hit.cpu_us_per_req / off.cpu_us_per_req).toFixed(2)}x, p50 ${hit.p50_ms.toFixed(3)} vs ${off.p50_ms.toFixed(3)} ms`);
}
console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
if (opts.json) writeFileSync(opts.json, JSON.stringify({ runs: rows, loadavg: loadavg() }, null, 2));
