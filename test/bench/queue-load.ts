// Load above a live queue's bound (docs/live-queue.md): the simulator plays a self-hosted server with a
// fixed answer time, small-8k gets max_concurrency / max_queue / max_wait_ms (and optionally a micro-batch),
// and an open-loop generator sends requests at a fixed rate above what the bound can serve. Prints what the
// server saw at once (the simulator's own count), the deepest queue (sampled from the executor's
// /metrics), the queue wait p50/p99 (from its histogram, as Prometheus's histogram_quantile would), the
// 429s with their Retry-After range, client latency of the answered requests, and throughput.
//
//   npm run bench:queue -- [--mode embedded|mesh] [--rate 40] [--duration 10] [--latency 200]
//                          [--max-concurrency 4] [--max-queue 8] [--max-wait-ms 2000] [--batch 4:300] [--json FILE]
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { startGateway, testConfig, type Gateway, type Mode } from "../e2e/harness.ts";

const MODEL = "small-8k";
const METRICS_TOKEN = "bench-queue-metrics-token-0123456789";

const { values: a } = parseArgs({
  options: {
    mode: { type: "string", default: "embedded" },
    rate: { type: "string", default: "40" },
    duration: { type: "string", default: "10" },
    latency: { type: "string", default: "200" },
    "max-concurrency": { type: "string", default: "4" },
    "max-queue": { type: "string", default: "8" },
    "max-wait-ms": { type: "string", default: "2000" },
    batch: { type: "string" },
    json: { type: "string" },
  },
});

const mode = a.mode as Mode;
if (mode !== "embedded" && mode !== "mesh") throw new Error("--mode embedded|mesh");
const rate = Number(a.rate);
const durationMs = Number(a.duration) * 1000;
const latencyMs = Number(a.latency);
const maxConcurrency = Number(a["max-concurrency"]);
const maxQueue = Number(a["max-queue"]);
const maxWaitMs = Number(a["max-wait-ms"]);
const batch = a.batch?.split(":").map(Number);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

/** Lines of `name` carrying all of `labels`, as [labels map, value]. */
function lines(text: string, name: string, labels: Record<string, string>): [Map<string, string>, number][] {
  const out: [Map<string, string>, number][] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    const have = new Map([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1] ?? "", m[2] ?? ""]));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) out.push([have, Number(line.slice(line.lastIndexOf(" ") + 1))]);
  }
  return out;
}

/** histogram_quantile over cumulative buckets: linear inside the bucket the rank falls in. */
function histogramQuantile(buckets: [number, number][], q: number): number {
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total === 0) return Number.NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of buckets) {
    if (count >= rank) {
      if (!Number.isFinite(le)) return prevLe;
      return prevLe + ((le - prevLe) * (rank - prevCount)) / Math.max(1, count - prevCount);
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

async function metricsText(gw: Gateway): Promise<string> {
  const url = gw.mesh ? `${gw.mesh.adminUrls.executor}/metrics` : `${gw.url}/metrics`;
  return (await fetch(url, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
}

async function main(): Promise<void> {
  const config = testConfig((c) => {
    const m = c.models[MODEL];
    if (!m) throw new Error(`${MODEL} is not in the shipped config`);
    m.max_concurrency = maxConcurrency;
    m.queue = { max_queue: maxQueue, max_wait_ms: maxWaitMs, ...(batch ? { batch: { max_size: batch[0] ?? 2, max_age_ms: batch[1] ?? 300 } } : {}) };
  });
  const gw = await startGateway(mode, { config, sim: { latencyMs }, env: { LLMGW_METRICS_TOKEN: METRICS_TOKEN } });
  try {
    const key = await gw.createKey("bench-queue");
    const headers = { authorization: `Bearer ${key}`, "content-type": "application/json", "x-llmgw-cache": "off" };
    const send = async (i: number) => {
      const t0 = performance.now();
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: "POST",
        headers,
        body: JSON.stringify({ model: MODEL, max_tokens: 16, messages: [{ role: "user", content: `Queue load request ${i}.` }] }),
      });
      const body = await res.text();
      return { status: res.status, ms: performance.now() - t0, retryAfter: res.headers.get("retry-after"), body };
    };
    // Warm-up: one answered request, so the first measured ones do not pay for lazy starts.
    const warm = await send(-1);
    if (warm.status !== 200) throw new Error(`warm-up request failed: ${warm.status} ${warm.body}`);
    gw.sim.resetInFlightMax();
    const base = await metricsText(gw);
    const rejectedBefore = lines(base, "llmgw_executor_queue_rejections_total", { model: MODEL }).reduce((s, [, v]) => s + v, 0);

    let depthMax = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const d = lines(await metricsText(gw), "llmgw_executor_queue_depth", { model: MODEL })[0]?.[1] ?? 0;
        depthMax = Math.max(depthMax, d);
        // Rendering /metrics costs CPU the gateway shares: often enough to see a full queue, no more.
        await new Promise((r) => setTimeout(r, 25));
      }
    })();

    // Open loop: arrivals on a fixed schedule whatever the answers do, as independent clients would.
    const results: Awaited<ReturnType<typeof send>>[] = [];
    const pending: Promise<void>[] = [];
    const t0 = performance.now();
    const total = Math.round((rate * durationMs) / 1000);
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      pending.push(send(i).then((r) => void results.push(r), (e: unknown) => void results.push({ status: 0, ms: 0, retryAfter: null, body: String(e) })));
    }
    await Promise.all(pending);
    const elapsedS = (performance.now() - t0) / 1000;
    sampling = false;
    await sampler;

    const text = await metricsText(gw);
    const buckets = lines(text, "llmgw_executor_queue_wait_seconds_bucket", { model: MODEL, outcome: "admitted" })
      .map(([l, v]): [number, number] => [l.get("le") === "+Inf" ? Number.POSITIVE_INFINITY : Number(l.get("le")), v])
      .sort((x, y) => x[0] - y[0]);
    // Subtract the warm-up's one admitted observation (it waited ~0: the first bucket).
    const measured = buckets.map(([le, v]): [number, number] => [le, Math.max(0, v - 1)]);
    const rejected = lines(text, "llmgw_executor_queue_rejections_total", { model: MODEL }).reduce((s, [, v]) => s + v, 0) - rejectedBefore;
    const byReason = Object.fromEntries(lines(text, "llmgw_executor_queue_rejections_total", { model: MODEL }).map(([l, v]) => [l.get("reason"), v]));
    const ok = results.filter((r) => r.status === 200);
    const r429 = results.filter((r) => r.status === 429);
    const other = results.filter((r) => r.status !== 200 && r.status !== 429);
    const okMs = ok.map((r) => r.ms).sort((x, y) => x - y);
    const retryAfters = r429.map((r) => Number(r.retryAfter)).filter((n) => Number.isFinite(n));
    const wellFormed = r429.filter((r) => {
      try {
        const e = (JSON.parse(r.body) as { error?: { type?: string; code?: string } }).error;
        return e?.type === "rate_limit_error" && e.code === "rate_limit_exceeded" && r.retryAfter !== null;
      } catch {
        return false;
      }
    }).length;
    // How long a provider call held its slot: what the bound really admits per second on this machine.
    const callSum = lines(text, "llmgw_executor_attempt_duration_seconds_sum", { model: MODEL, outcome: "ok" })[0]?.[1] ?? 0;
    const callCount = lines(text, "llmgw_executor_attempt_duration_seconds_count", { model: MODEL, outcome: "ok" })[0]?.[1] ?? 0;
    const callMeanMs = callCount > 0 ? (callSum / callCount) * 1000 : Number.NaN;
    const out = {
      mode,
      bound: { max_concurrency: maxConcurrency, max_queue: maxQueue, max_wait_ms: maxWaitMs, batch: batch ?? null },
      server_latency_ms: latencyMs,
      capacity_rps_nominal: (maxConcurrency * 1000) / latencyMs,
      provider_call_mean_ms: Number(callMeanMs.toFixed(1)),
      capacity_rps_effective: Number(((maxConcurrency * 1000) / callMeanMs).toFixed(1)),
      offered_rps: rate,
      sent: results.length,
      elapsed_s: Number(elapsedS.toFixed(2)),
      answered: ok.length,
      answered_rps: Number((ok.length / elapsedS).toFixed(1)),
      status_429: r429.length,
      status_429_well_formed: wellFormed,
      other_errors: other.length,
      other_error_statuses: [...new Set(other.map((r) => r.status))],
      retry_after_s: { min: Math.min(...retryAfters), max: Math.max(...retryAfters) },
      queue_rejections_metric: rejected,
      queue_rejections_by_reason: byReason,
      server_in_flight_max: gw.sim.inFlight().max,
      // Micro-batch waves (with --batch): how many went by size and by age, and their mean size.
      waves: batch
        ? {
            ...Object.fromEntries(lines(text, "llmgw_executor_queue_flushes_total", { model: MODEL }).map(([l, v]) => [l.get("trigger"), v])),
            mean_size: Number(((lines(text, "llmgw_executor_queue_flush_size_sum", { model: MODEL })[0]?.[1] ?? 0) / Math.max(1, lines(text, "llmgw_executor_queue_flush_size_count", { model: MODEL })[0]?.[1] ?? 0)).toFixed(2)),
          }
        : null,
      queue_depth_max_sampled: depthMax,
      queue_wait_ms: { p50: Number((histogramQuantile(measured, 0.5) * 1000).toFixed(1)), p99: Number((histogramQuantile(measured, 0.99) * 1000).toFixed(1)) },
      answered_latency_ms: { p50: Number(percentile(okMs, 50).toFixed(1)), p99: Number(percentile(okMs, 99).toFixed(1)) },
    };
    console.log(JSON.stringify(out, null, 2));
    if (a.json) writeFileSync(a.json, JSON.stringify(out, null, 2) + "\n");
    const held = out.server_in_flight_max <= maxConcurrency && out.queue_depth_max_sampled <= maxQueue && wellFormed === r429.length && rejected === r429.length;
    if (!held) {
      console.error("bound NOT held (or 429s malformed / not all counted)");
      process.exitCode = 1;
    }
  } finally {
    await gw.stop();
  }
}

await main();
