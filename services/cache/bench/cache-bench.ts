/**
 * Speed and memory of the in-process vector index at 10k / 100k / 1M entries, plus the shipped
 * embedder's table load (time, memory) and per-query time, with the lexical hashed embedder for reference.  npm run bench:cache -- [--json OUT] [--sizes 10000,100000,1000000]
 * Vectors are deterministic pseudo-random unit vectors of the shipped embedder's dimension.
 * Two layouts per size: one big partition (worst case: a single tenant/scope/system prompt holds
 * every entry) and 1,000 partitions (typical multi-tenant spread).
 * Each lookup also embeds a realistic query text with the shipped embedder just before the search
 * (the vector searched is the planted one, so recall stays measurable): `embed+lookup` is what a
 * semantic lookup costs the cache service, the index's own time is reported apart.
 * Memory is heap + external (typed arrays and WebAssembly memories, where large compact partitions live).
 */
import { writeFileSync } from "node:fs";
import { Command } from "commander";
import Table from "cli-table3";
import { HashedNgramEmbedder } from "../domain/hashed-embedder.ts";
import { createLocalEmbedder } from "../domain/local-embedder.ts";
import type { Embedder } from "../domain/types.ts";
import { InProcessVectorIndex } from "../store/inprocess-vector-index.ts";

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function randomUnit(dim: number, next: () => number): Float32Array {
  const v = new Float32Array(dim);
  let n = 0;
  for (let i = 0; i < dim; i++) {
    const x = next() - 0.5;
    v[i] = x;
    n += x * x;
  }
  n = Math.sqrt(n);
  for (let i = 0; i < dim; i++) v[i] = (v[i] as number) / n;
  return v;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

interface Row {
  /** float32 rows + float sketch, or int8 rows + 256-bit sign codes (compact-partition.ts). */
  layout: "float32" | "int8";
  entries: number;
  partitions: number;
  insert_p50_us: number;
  insert_p99_us: number;
  lookup_p50_ms: number;
  lookup_p99_ms: number;
  /** CPU time of this process per lookup: on a shared, overloaded machine wall time mostly measures waiting for a core. */
  lookup_cpu_p50_ms: number;
  lookup_cpu_p99_ms: number;
  /** The same lookups with the query's embedding (shipped embedder, one text) included. */
  embed_lookup_p50_ms: number;
  embed_lookup_p99_ms: number;
  embed_lookup_cpu_p50_ms: number;
  embed_lookup_cpu_p99_ms: number;
  heap_delta_mb: number;
  rss_delta_mb: number;
  bytes_per_entry: number;
  /** CPU time of the very first lookup (cold: V8 has not compiled the search path yet). */
  first_lookup_cpu_ms: number;
  /** Share of lookups whose planted near-duplicate (cosine ~0.5) came back top-1. */
  planted_recall_at_1: number;
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) g();
}

const QUERY_TEXTS = [
  "What is the capital of France?",
  "How do I learn machine learning from scratch as a software engineer with five years of experience?",
  "Summarize the following paragraph in two sentences: the quick brown fox jumps over the lazy dog near the river bank.",
  "Which is better for a beginner, Python or JavaScript?",
];

/** Heap plus memory outside it that JS objects hold: typed arrays, and WebAssembly memories (not in arrayBuffers). */
function heldBytes(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

/** GC until the external figure has caught up: V8 releases dead buffers' memory after the GC that found them. */
async function settle(): Promise<void> {
  gc();
  await new Promise((r) => setTimeout(r, 100));
  gc();
}

async function runIndex(entries: number, partitions: number, dim: number, lookups: number, compact: boolean, embedder: Embedder): Promise<Row> {
  await settle();
  const heap0 = heldBytes();
  const rss0 = process.memoryUsage().rss;
  const ix = new InProcessVectorIndex({ dim, compact });
  const next = rng(42);
  const insertTimes: number[] = [];
  // A pool of random unit vectors, each row = pool vector rotated by a per-entry offset and sign
  // pattern: cheap to make, mutually near-orthogonal like unrelated texts.
  const pool = Array.from({ length: 64 }, () => randomUnit(dim, next));
  const rowVector = (i: number, out: Float32Array): Float32Array => {
    const src = pool[i % pool.length] as Float32Array;
    const shift = Math.floor(i / pool.length) % dim;
    const flip = (Math.floor(i / (pool.length * dim)) * 2654435761) >>> 0;
    for (let d = 0; d < dim; d++) out[d] = (src[(d + shift) % dim] as number) * (((flip >>> (d % 32)) & 1) === 0 ? 1 : -1);
    return out;
  };
  const scratch = new Float32Array(dim);
  for (let i = 0; i < entries; i++) {
    rowVector(i, scratch);
    const p = { tenant: `t${i % partitions}`, namespace: "bench", key: "k" };
    const t0 = performance.now();
    ix.upsertSync(p, { id: `e${i}`, text: "", createdAt: 0, expiresAt: Number.MAX_SAFE_INTEGER }, scratch);
    const dt = performance.now() - t0;
    if (i % Math.max(1, Math.floor(entries / 20_000)) === 0) insertTimes.push(dt * 1000);
  }
  await settle();
  const heapDelta = heldBytes() - heap0;
  const rssDelta = process.memoryUsage().rss - rss0;
  const lookupTimes: number[] = [];
  const cpuTimes: number[] = [];
  const withEmbed: number[] = [];
  const withEmbedCpu: number[] = [];
  let planted = 0;
  for (let i = 0; i < lookups; i++) {
    // Query = a stored row plus noise (cosine ~0.5 to it): a paraphrase whose neighbour must be found.
    const target = Math.floor(next() * entries);
    const q = rowVector(target, new Float32Array(dim));
    const noise = randomUnit(dim, next);
    let n = 0;
    for (let d = 0; d < dim; d++) {
      q[d] = (q[d] as number) + (noise[d] as number);
      n += (q[d] as number) ** 2;
    }
    n = Math.sqrt(n);
    for (let d = 0; d < dim; d++) q[d] = (q[d] as number) / n;
    const p = { tenant: `t${target % partitions}`, namespace: "bench", key: "k" };
    const text = `${QUERY_TEXTS[i % QUERY_TEXTS.length] as string} ${i}`;
    const e0 = process.cpuUsage();
    const te = performance.now();
    await embedder.embed([text]);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const res = ix.searchSync(p, q, 5, 0);
    const t1 = performance.now();
    const c1 = process.cpuUsage();
    lookupTimes.push(t1 - t0);
    cpuTimes.push((c1.user + c1.system - c0.user - c0.system) / 1000);
    withEmbed.push(t1 - te);
    withEmbedCpu.push((c1.user + c1.system - e0.user - e0.system) / 1000);
    if (res[0]?.meta.id === `e${target}`) planted++;
  }
  const firstCpu = cpuTimes[0] ?? 0;
  insertTimes.sort((a, b) => a - b);
  lookupTimes.sort((a, b) => a - b);
  cpuTimes.sort((a, b) => a - b);
  withEmbed.sort((a, b) => a - b);
  withEmbedCpu.sort((a, b) => a - b);
  return {
    layout: compact ? "int8" : "float32",
    entries,
    partitions,
    insert_p50_us: pct(insertTimes, 0.5),
    insert_p99_us: pct(insertTimes, 0.99),
    lookup_p50_ms: pct(lookupTimes, 0.5),
    lookup_p99_ms: pct(lookupTimes, 0.99),
    lookup_cpu_p50_ms: pct(cpuTimes, 0.5),
    lookup_cpu_p99_ms: pct(cpuTimes, 0.99),
    embed_lookup_p50_ms: pct(withEmbed, 0.5),
    embed_lookup_p99_ms: pct(withEmbed, 0.99),
    embed_lookup_cpu_p50_ms: pct(withEmbedCpu, 0.5),
    embed_lookup_cpu_p99_ms: pct(withEmbedCpu, 0.99),
    heap_delta_mb: heapDelta / 2 ** 20,
    rss_delta_mb: rssDelta / 2 ** 20,
    bytes_per_entry: heapDelta / entries,
    first_lookup_cpu_ms: firstCpu,
    planted_recall_at_1: planted / lookups,
  };
}

interface EmbedderRow {
  name: string;
  dim: number;
  /** First embed: loads and prepares the word-vector table (0 for the hashed embedder). */
  first_call_ms: number;
  heap_delta_mb: number;
  rss_delta_mb: number;
  p50_us: number;
  p99_us: number;
  texts: number;
}

async function embedderBench(e: Embedder): Promise<EmbedderRow> {
  const texts = [
    "What is the capital of France?",
    "How do I learn machine learning from scratch as a software engineer with five years of experience?",
    "Summarize the following paragraph in two sentences: the quick brown fox jumps over the lazy dog near the river bank.",
    "Which is better for a beginner, Python or JavaScript?",
  ];
  gc();
  const m0 = process.memoryUsage();
  const t0 = performance.now();
  await e.embed([texts[0] as string]);
  const firstMs = performance.now() - t0;
  gc();
  const m1 = process.memoryUsage();
  for (let i = 0; i < 2000; i++) await e.embed([texts[i % texts.length] as string]);
  const times: number[] = [];
  for (let i = 0; i < 20_000; i++) {
    const t = performance.now();
    await e.embed([`${texts[i % texts.length] as string} ${i}`]);
    times.push((performance.now() - t) * 1000);
  }
  times.sort((a, b) => a - b);
  return {
    name: `${e.name}@${e.version}`,
    dim: e.dim,
    first_call_ms: firstMs,
    heap_delta_mb: (m1.heapUsed + m1.arrayBuffers - m0.heapUsed - m0.arrayBuffers) / 2 ** 20,
    rss_delta_mb: (m1.rss - m0.rss) / 2 ** 20,
    p50_us: pct(times, 0.5),
    p99_us: pct(times, 0.99),
    texts: times.length,
  };
}

async function main(): Promise<void> {
  // Memory deltas need a forced GC: re-run this script once with --expose-gc (same loader flags).
  if (!(globalThis as { gc?: () => void }).gc && !process.env["CACHE_BENCH_CHILD"]) {
    const { spawnSync } = await import("node:child_process");
    const r = spawnSync(process.execPath, ["--expose-gc", ...process.execArgv, ...process.argv.slice(1)], {
      stdio: "inherit",
      env: { ...process.env, CACHE_BENCH_CHILD: "1" },
    });
    process.exit(r.status ?? 1);
  }
  const program = new Command()
    .option("--json <out>", "write results as JSON")
    .option("--sizes <list>", "entry counts", "10000,100000,1000000")
    // 2,000: with 200 the p99 is the second-worst lookup, i.e. the first lookups of a fresh process
    // while V8 is still compiling the search path (reported apart as first_lookup_cpu_ms).
    .option("--lookups <n>", "lookups per size", (v) => Number.parseInt(v, 10), 2000)
    .option("--layouts <list>", "index layouts: float32, int8", "float32,int8");
  program.parse();
  const o = program.opts<{ json?: string; sizes: string; lookups: number; layouts: string }>();
  // The shipped local embedder first (its table load is measured on a fresh heap), the lexical one for reference.
  const shipped = createLocalEmbedder();
  const dim = shipped.dim;
  const embedders = [await embedderBench(shipped), await embedderBench(new HashedNgramEmbedder())];
  for (const emb of embedders) {
    console.log(
      `embedder ${emb.name} dim ${emb.dim}: first call ${emb.first_call_ms.toFixed(0)} ms (heap+buffers Δ ${emb.heap_delta_mb.toFixed(0)} MB, RSS Δ ${emb.rss_delta_mb.toFixed(0)} MB); per query p50 ${emb.p50_us.toFixed(1)} µs, p99 ${emb.p99_us.toFixed(1)} µs (${emb.texts} texts)`,
    );
  }
  const rows: Row[] = [];
  for (const n of o.sizes.split(",").map(Number)) {
    for (const layout of o.layouts.split(",")) {
      for (const partitions of [1, 1000]) {
        const r = await runIndex(n, partitions, dim, o.lookups, layout === "int8", shipped);
        rows.push(r);
        console.log(`  done ${layout} ${n} entries / ${partitions} partitions`);
      }
    }
  }
  const t = new Table({
    style: { head: [], border: [] },
    head: ["layout", "entries", "partitions", "insert p50 µs", "insert p99 µs", "lookup p50 ms", "lookup p99 ms", "cpu p50 ms", "cpu p99 ms", "+embed p50 / p99 ms", "+embed cpu p50 / p99 ms", "first cpu ms", "heap+external Δ MB", "RSS Δ MB", "bytes/entry", "planted recall@1"],
  });
  for (const r of rows) {
    t.push([r.layout, r.entries, r.partitions, r.insert_p50_us.toFixed(2), r.insert_p99_us.toFixed(2), r.lookup_p50_ms.toFixed(3), r.lookup_p99_ms.toFixed(3), r.lookup_cpu_p50_ms.toFixed(3), r.lookup_cpu_p99_ms.toFixed(3), `${r.embed_lookup_p50_ms.toFixed(3)} / ${r.embed_lookup_p99_ms.toFixed(3)}`, `${r.embed_lookup_cpu_p50_ms.toFixed(3)} / ${r.embed_lookup_cpu_p99_ms.toFixed(3)}`, r.first_lookup_cpu_ms.toFixed(1), r.heap_delta_mb.toFixed(0), r.rss_delta_mb.toFixed(0), r.bytes_per_entry.toFixed(0), r.planted_recall_at_1.toFixed(3)].map(String));
  }
  console.log(t.toString());
  if (o.json) writeFileSync(o.json, `${JSON.stringify({ dim, embedder: embedders[0], embedders, index: rows, node: process.version }, null, 2)}\n`);
}

await main();
