// Child process for the /healthz-under-a-2 MB-prompt test: the embedded gateway (memory ledger, its own
// simulator) alone in a fresh process, so the event-loop delay it reports is the gateway's own and not the
// test runner's. perf_hooks' monitorEventLoopDelay runs all along; stdin commands drive it:
//   "reset"  -> clears the histogram, prints {"reset":true}
//   "report" -> prints {"report":{"maxMs","p99Ms","count","maxCpuMs"}} for the window since the last reset
// maxCpuMs: the most CPU time the main thread spent between two turns of a 5 ms timer, i.e. the longest
// the loop was held measured in CPU rather than wall time, which a busy machine stretches (being
// descheduled is not CPU). Linux counts thread CPU in 10 ms ticks, so it is +-10 ms.
// Prints {"ready":true,"url","tenantKey"} once listening. Exits on stdin end or SIGTERM.
import { existsSync, readFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { silentLogger } from "#libs/log/logger.ts";
import { startSimulator } from "#libs/simulator/server.ts";
import { startEmbedded } from "#services/embedded/compose.ts";

const sim = await startSimulator({ port: 0 });
const gw = await startEmbedded({ port: 0, host: "127.0.0.1", dataDir: "memory", simulatorUrl: sim.url, env: { LLMGW_API_KEY: "llmgw-loop-monitor-admin-0123456789" }, logger: silentLogger() });
const tenantKey = (await gw.clients.ledger.createKey({ tenantId: "loop-monitor", name: "e2e", admin: false })).key;

// 10 ms resolution: a synchronous stretch of N ms shows up as one sample of about N ms.
const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();
/**
 * CPU ms of the main thread (the event loop's) on Linux, from /proc (10 ms ticks); elsewhere the whole
 * process's, which also counts V8's compiler and GC helper threads.
 */
const MAIN_THREAD_STAT = `/proc/self/task/${process.pid}/stat`;
const onLinux = existsSync(MAIN_THREAD_STAT);
const cpuMs = (): number => {
  if (!onLinux) {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1_000;
  }
  // Fields after the ")" that ends the command name: utime and stime are the 12th and 13th.
  const stat = readFileSync(MAIN_THREAD_STAT, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(f[11]) + Number(f[12])) * 1_000) / 100;
};
let maxCpuMs = 0;
let lastCpu = cpuMs();
const cpuTick = setInterval(() => {
  const now = cpuMs();
  maxCpuMs = Math.max(maxCpuMs, now - lastCpu);
  lastCpu = now;
}, 5);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  delay.disable();
  clearInterval(cpuTick);
  void gw
    .stop()
    .then(() => sim.close())
    .finally(() => process.exit(0));
};
process.on("SIGTERM", stop);

createInterface({ input: process.stdin })
  .on("line", (line) => {
    if (line === "reset") {
      delay.reset();
      maxCpuMs = 0;
      lastCpu = cpuMs();
      console.log(JSON.stringify({ reset: true }));
    } else if (line === "report") {
      // The histogram is in nanoseconds.
      console.log(JSON.stringify({ report: { maxMs: delay.max / 1e6, p99Ms: delay.percentile(99) / 1e6, count: delay.count, maxCpuMs } }));
    }
  })
  .on("close", stop);

console.log(JSON.stringify({ ready: true, url: gw.url, tenantKey }));
