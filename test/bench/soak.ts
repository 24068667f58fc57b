// Soak (issue #11 item 6): `npm start`'s embedded gateway (the compiled bundle, a fresh data dir) under
// mixed traffic — ordinary chat completions and the fuzz test's hostile requests — for N minutes, its
// resident set sampled over time: idle before, loaded, idle after. With --portkey (default), Portkey's
// gateway runs beside it on the same simulator and gets the same ordinary traffic, sampled alike.
//   npm run soak -- [--minutes 3] [--concurrency 8] [--hostile 0.3] [--every 15] [--no-portkey] [--seed N]
//                   [--gateway-node-options="--cpu-prof --cpu-prof-dir=/tmp/p"] (extra node flags for the gateway only)
// Prints one line per sample (RSS, requests, req/s since the last sample) and a summary (MB, req/s first vs
// last minute). Not a test: figures depend on the machine.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startSimulator } from "#libs/simulator/server.ts";
import { hostileRequest, Rng, routesOf, type Target } from "../e2e/support/hostile.ts";
import { httpBytes, rawRequest } from "../e2e/support/raw-http.ts";
import { freePort, processRssKb, spawnChild, stopChild, waitForLine, type Child } from "./procs.ts";
import { PROVIDER_KEY } from "./targets.ts";

const { values: opts } = parseArgs({
  options: {
    minutes: { type: "string", default: "3" },
    concurrency: { type: "string", default: "8" },
    hostile: { type: "string", default: "0.3" },
    every: { type: "string", default: "15" },
    idle: { type: "string", default: "20" },
    seed: { type: "string", default: "282" },
    "no-portkey": { type: "boolean", default: false },
    "gateway-node-options": { type: "string", default: "" },
  },
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const mb = (kb: number): number => Math.round(kb / 102.4) / 10;

/** The routes the fuzz test aims at (the gateway's, as of this commit); the soak needs no Fastify instance. */
const ROUTES = `
├── /v1/models (GET)
│   └── /:id (GET)
├── /v1/chat/completions (POST)
├── /v1/llmgw/keys (POST, GET)
│   └── /:id (DELETE)
├── /v1/llmgw/budgets (PUT, GET)
├── /v1/llmgw/spend (GET)
├── /v1/llmgw/cache/invalidate (POST)
├── /v1/llmgw/policy (GET, POST)
│   └── /revert (POST)
├── /v1/files (POST)
│   └── /:id (GET)
│       └── /content (GET)
├── /v1/batches (POST)
│   └── /:id (GET)
`;

async function startGateway(): Promise<{ child: Child; url: string; key: string; dataDir: string }> {
  const build = spawnSync("npm", ["run", "build", "--silent"], { stdio: "inherit" });
  if (build.status !== 0) throw new Error("npm run build failed");
  const dataDir = mkdtempSync(join(tmpdir(), "llmgw-soak-"));
  const port = await freePort();
  let url = "";
  let key = "";
  let ready: () => void = () => undefined;
  const started = new Promise<void>((r) => (ready = r));
  const nodeOptions = opts["gateway-node-options"].split(" ").filter(Boolean);
  const child = spawnChild("gateway (npm start)", [...nodeOptions, "bin/llmgw.mjs", "services/embedded/main.ts"], { LLMGW_DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: "warn" }, (line) => {
    url ||= /running \(embedded\) at (\S+)/.exec(line)?.[1] ?? "";
    key ||= /admin API key \(shown once, store it now\): (\S+)/.exec(line)?.[1] ?? "";
    if (url && key) ready();
  });
  const timeout = setTimeout(() => child.proc.kill(), 300_000);
  await Promise.race([started, new Promise((_, reject) => child.proc.once("exit", () => reject(new Error(`gateway exited\n${child.stderrTail()}`))))]);
  clearTimeout(timeout);
  return { child, url, key, dataDir };
}

interface Sample extends GatewayMemory {
  phase: string;
  t: number;
  gateway: number;
  portkey: number | undefined;
  requests: number;
  fiveXx: number;
  /** Requests per second since the previous sample. */
  rps: number;
}

/** V8 heap used and external memory (MB) from the gateway's /metrics (admin key), undefined if unreadable. */
/** The gateway's own view (prom-client default metrics), MB. */
interface GatewayMemory {
  /** V8 heap used. */
  heap: number | undefined;
  /** V8's committed heap (heapTotal): what the heap holds resident, used or not. */
  heapTotal: number | undefined;
  /** ArrayBuffers and WebAssembly memory. */
  external: number | undefined;
  /** Committed size per V8 heap space (MB), to tell which space a rise of heapTotal is in. */
  spaces: Record<string, number>;
}

async function gatewayMemory(url: string, adminKey: string): Promise<GatewayMemory> {
  try {
    const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${adminKey}` }, signal: AbortSignal.timeout(5_000) })).text();
    const read = (name: string): number | undefined => {
      const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text);
      return m ? Math.round(Number(m[1]) / 104_857.6) / 10 : undefined;
    };
    const spaces: Record<string, number> = {};
    for (const m of text.matchAll(/^nodejs_heap_space_size_total_bytes\{[^}]*space="([^"]+)"[^}]*\} (\S+)$/gm)) spaces[m[1] as string] = Math.round(Number(m[2]) / 104_857.6) / 10;
    return { heap: read("nodejs_heap_size_used_bytes"), heapTotal: read("nodejs_heap_size_total_bytes"), external: read("nodejs_external_memory_bytes"), spaces };
  } catch {
    return { heap: undefined, heapTotal: undefined, external: undefined, spaces: {} };
  }
}

/**
 * What a 5xx answer says: its error code and message (OpenAI's or Anthropic's shape), so a provider's own
 * failure (code upstream_*, the provider's message quoted) is told apart from the gateway's at a glance.
 */
function errorOf(body: Buffer): string {
  try {
    const e = (JSON.parse(body.toString("utf8")) as { error?: { code?: unknown; type?: unknown; message?: unknown } }).error;
    return `[${String(e?.code ?? e?.type ?? "?")}] ${String(e?.message ?? "").slice(0, 160)}`;
  } catch {
    return `(not JSON) ${body.toString("utf8").slice(0, 80)}`;
  }
}

const PROMPTS = ["What is the capital of France?", "Write a haiku about the sea.", "Explain TCP slow start in two sentences.", "Translate 'good morning' to Spanish.", "Summarize the plot of Hamlet."];

async function main(): Promise<void> {
  const minutes = Number(opts.minutes);
  const concurrency = Number(opts.concurrency);
  const hostileShare = Number(opts.hostile);
  const sim = await startSimulator({ port: 0 });
  const gw = await startGateway();
  let portkey: Child | undefined;
  let portkeyPort = 0;
  if (!opts["no-portkey"]) {
    portkeyPort = await freePort();
    portkey = (await waitForLine("portkey", ["node_modules/@portkey-ai/gateway/build/start-server.js", `--port=${portkeyPort}`, "--headless"], {}, (l) => (l.includes("Ready for connections") ? true : undefined))).child;
  }
  const gwPort = Number(new URL(gw.url).port);
  const created = await fetch(`${gw.url}/v1/llmgw/keys`, { method: "POST", headers: { authorization: `Bearer ${gw.key}`, "content-type": "application/json" }, body: JSON.stringify({ tenant_id: "soak" }) });
  const tenantKey = ((await created.json()) as { key: string }).key;
  const targets: Target[] = routesOf(ROUTES);
  const rng = new Rng(Number(opts.seed));
  const samples: Sample[] = [];
  let requests = 0;
  let fiveXx = 0;
  /** What the 5xx answers and hangs were (status and request), to tell overload refusals from bugs. */
  const bad = new Map<string, number>();
  const note = (status: number, timedOut: boolean, label: string, body?: Buffer): void => {
    if (status < 500 && !timedOut) return;
    fiveXx++;
    const k = `${timedOut ? "hang" : status} ${label.slice(0, 100)}${body ? ` => ${errorOf(body)}` : ""}`;
    bad.set(k, (bad.get(k) ?? 0) + 1);
  };
  const t0 = performance.now();
  let last = { at: performance.now(), requests: 0 };
  const sample = async (phase: string): Promise<void> => {
    const mem = await gatewayMemory(gw.url, gw.key);
    const now = performance.now();
    const rps = Math.round(((requests - last.requests) * 1000) / Math.max(1, now - last.at));
    last = { at: now, requests };
    const s = { phase, t: Math.round((now - t0) / 1000), gateway: mb(processRssKb(gw.child.pid)), portkey: portkey ? mb(processRssKb(portkey.pid)) : undefined, requests, fiveXx, rps, ...mem };
    samples.push(s);
    console.log(`${String(s.t).padStart(5)} s  ${phase.padEnd(11)} llmgw ${String(s.gateway).padStart(6)} MB${s.portkey !== undefined ? `   portkey ${String(s.portkey).padStart(6)} MB` : ""}   requests ${requests} (${rps} req/s), 5xx ${fiveXx}   heap ${s.heap ?? "?"} of ${s.heapTotal ?? "?"} MB, external ${s.external ?? "?"} MB`);
  };
  const idle = async (phase: string): Promise<void> => {
    for (let waited = 0; waited < Number(opts.idle); waited += 5) {
      await sleep(5_000);
      await sample(phase);
    }
  };

  await idle("idle");
  last = { at: performance.now(), requests };
  const until = performance.now() + minutes * 60_000;
  // Past the end, workers only wait for their last answers (a hang takes 30 s): "draining", kept out of the loaded figures.
  const timer = setInterval(() => void sample(performance.now() < until ? "loaded" : "draining"), Number(opts.every) * 1000);
  const chat = (i: number) => JSON.stringify({ model: i % 3 === 0 ? "auto" : "gpt-4o-mini", messages: [{ role: "user", content: `${PROMPTS[i % PROMPTS.length]} (${i % 40})` }], max_tokens: 64 });
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      for (let i = w; performance.now() < until; i += concurrency) {
        if (rng.next() < hostileShare) {
          const req = hostileRequest(rng, targets, { admin: gw.key, tenant: tenantKey }, ["auto", "gpt-4o-mini", "small-8k"]);
          const res = await rawRequest(gwPort, req.bytes, 30_000, req.malformed);
          note(res.status, res.timedOut, req.label, res.body);
        } else {
          const body = chat(i);
          const res = await rawRequest(gwPort, httpBytes("POST", "/v1/chat/completions", [["Authorization", `Bearer ${tenantKey}`], ["Content-Type", "application/json"]], body), 30_000);
          note(res.status, res.timedOut, `chat ${res.body.toString("utf8").slice(0, 160)}`);
          if (portkey) {
            await rawRequest(portkeyPort, httpBytes("POST", "/v1/chat/completions", [["Authorization", `Bearer ${PROVIDER_KEY}`], ["Content-Type", "application/json"], ["x-portkey-provider", "openai"], ["x-portkey-custom-host", `${sim.url}/v1`]], body), 30_000);
          }
        }
        requests++;
      }
    }),
  );
  clearInterval(timer);
  await sample("draining");
  await idle("idle after");

  const of = (phase: string, k: "gateway" | "portkey"): number[] => samples.filter((s) => s.phase === phase).map((s) => s[k] ?? 0);
  const loaded = of("loaded", "gateway");
  const half = Math.floor(loaded.length / 2);
  const avg = (xs: number[]): number => Math.round((xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)) * 10) / 10;
  console.log(`\nsummary (${minutes} min, ${requests} requests, ${Math.round(hostileShare * 100)}% hostile, ${fiveXx} x 5xx/hang):`);
  console.log(`  llmgw    idle ${avg(of("idle", "gateway"))} MB, loaded first half ${avg(loaded.slice(0, half))} MB, second half ${avg(loaded.slice(half))} MB, max ${Math.max(...loaded)} MB, idle after ${avg(of("idle after", "gateway"))} MB`);
  if (portkey) {
    const pl = of("loaded", "portkey");
    console.log(`  portkey  idle ${avg(of("idle", "portkey"))} MB, loaded first half ${avg(pl.slice(0, half))} MB, second half ${avg(pl.slice(half))} MB, max ${Math.max(...pl)} MB, idle after ${avg(of("idle after", "portkey"))} MB (ordinary traffic only)`);
  }
  const mem = (k: "heap" | "heapTotal" | "external", xs: Sample[]): string => xs.map((x) => x[k] ?? "?").join(" ");
  console.log(`  llmgw    V8 heap used per sample (MB): ${mem("heap", samples)}`);
  console.log(`  llmgw    V8 heap committed per sample (MB): ${mem("heapTotal", samples)}`);
  const firstLoaded = samples.find((x) => x.phase === "loaded");
  const lastSample = samples[samples.length - 1];
  if (firstLoaded && lastSample) {
    const names = Object.keys(lastSample.spaces);
    console.log(`  llmgw    V8 committed by space, first loaded sample -> last (MB): ${names.map((n) => `${n} ${firstLoaded.spaces[n] ?? "?"} -> ${lastSample.spaces[n]}`).join(", ")}`);
  }
  console.log(`  llmgw    external per sample (MB): ${mem("external", samples)}`);
  // Throughput over time: the first and last minute of load (or all of it when shorter), from the samples' counts.
  const loadedSamples = samples.filter((s) => s.phase === "loaded");
  if (loadedSamples.length >= 2) {
    const perMinute = Math.max(1, Math.round(60 / Number(opts.every)));
    const first = loadedSamples.slice(0, perMinute);
    const lastMin = loadedSamples.slice(-perMinute);
    console.log(`  req/s    first minute ${avg(first.map((s) => s.rps))}, last minute ${avg(lastMin.map((s) => s.rps))} (per sample: ${loadedSamples.map((s) => s.rps).join(" ")})`);
  }
  for (const [k, n] of bad) console.log(`  ${n} x ${k}`);
  await stopChild(gw.child);
  if (portkey) await stopChild(portkey);
  await sim.close();
  rmSync(gw.dataDir, { recursive: true, force: true });
}

await main();
