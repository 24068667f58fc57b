/**
 * Semantic-cache evaluation on labelled question pairs ({"id","a","b","same"} JSONL: Quora Question Pairs as
 * packaged by GPTCache's benchmark, or GPTCache's paraphrase mock data).
 * Each pair is evaluated independently: `a` is stored under its own tenant (a fresh partition per pair,
 * equivalent to an empty cache per pair), then `b` is looked up through the real CacheEngine.
 *   npm run eval:cache -- --data qqp-dev.jsonl [--json OUT] [--limit N] [--half 0|1]
 * --half keeps the pairs whose crc32(id) parity is 0 or 1: tune on one half, report the other.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { crc32 } from "node:zlib";
import { Command } from "commander";
import Table from "cli-table3";
import { cacheConfigSchema, defaultCacheConfig, thresholdFor, thresholdForLength, type CacheConfig } from "../domain/config.ts";
import { CacheEngine } from "../domain/engine.ts";
import { normalizeText } from "../domain/keys.ts";
import { HashedNgramEmbedder } from "../domain/hashed-embedder.ts";
import { createLocalEmbedder } from "../domain/local-embedder.ts";
import { contentWordCount, precisionGuard, type GuardCheck } from "../domain/precision-guard.ts";
import { wordJaccard } from "../domain/text-features.ts";
import type { CacheRequest, Embedder } from "../domain/types.ts";
import { InProcessVectorIndex } from "../store/inprocess-vector-index.ts";
import { MemoryExactStore } from "../store/memory-exact-store.ts";
import { scoreOutcomes, type CacheScores } from "./eval-metrics.ts";
import { buildVerifier } from "../build.ts";
import type { HitVerifier } from "../domain/verifier/hit-verifier.ts";
import { QualityGuard, qualityConfigSchema } from "../domain/quality-guard.ts";
import { wilsonInterval } from "#libs/stats/binomial.ts";
import { similarityBucket, similarityCuts } from "#libs/stats/similarity-cuts.ts";

interface Pair {
  id: string;
  a: string;
  b: string;
  same: boolean;
}

const CATEGORY = "default";
const HARD_JACCARD = 0.5;
const VERIFIER_SWEEP = [0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95];
const SWEEP = [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.99];
const AUDIT_BOUNDS = [0.02, 0.05, 0.08, 0.1];
const CHECKS: GuardCheck[] = ["numbers", "negation", "entities", "quoted", "literal", "dates", "units", "comparison", "question", "person", "specificity", "swap", "order"];

function readPairs(file: string, limit?: number, half?: number): Pair[] {
  const rows = readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Pair)
    .filter((p) => half === undefined || crc32(p.id) % 2 === half);
  return limit ? rows.slice(0, limit) : rows;
}

function request(tenant: string, text: string): CacheRequest {
  return { tenant, scope: "eval", messages: [{ role: "user", content: text }], params: {}, category: CATEGORY, cacheControl: "default" };
}

/** Runs every pair through a real engine; returns hit flags and the similarity the engine reported. */
/** Index rows as float32 or int8 (compact-partition.ts): `--layout`, to see what the compact form costs in decisions. */
let compactIndex = false;

async function runEngine(pairs: Pair[], config: CacheConfig, embedder: Embedder, verifier?: HitVerifier): Promise<{ hit: boolean; sim: number; exact: boolean }[]> {
  const engine = new CacheEngine({
    config,
    ...(verifier ? { verifier } : {}),
    exact: new MemoryExactStore({ maxEntriesPerTenant: 10 }),
    vectors: new InProcessVectorIndex({ dim: embedder.dim, maxEntriesPerTenant: 10, compact: compactIndex }),
    embedder,
  });
  const out: { hit: boolean; sim: number; exact: boolean }[] = [];
  for (const [i, p] of pairs.entries()) {
    const tenant = `pair-${i}`;
    await engine.store(request(tenant, p.a), { completionJson: "{}", model: "eval", createdAt: 0 });
    const r = await engine.lookup(request(tenant, p.b));
    if (!r.hit && /timeout|error/.test(r.reason)) throw new Error(`store failure during evaluation: ${r.reason}`);
    out.push({ hit: r.hit, sim: r.hit ? r.similarity : (r.similarity ?? 0), exact: r.layer === "exact" });
    await engine.invalidate({ tenant });
  }
  return out;
}

/**
 * The audit loop simulated on labelled pairs: the shipped defaults' semantic hits on the pairs whose
 * crc32(id) is even are taken as audits (the pair's label as the judge: a hit on a "different" pair is a
 * wrong hit; no baseline), the QualityGuard sets its similarity floor or suspends the category at each
 * bound, and the result is scored on the odd pairs. Exact hits are never refused.
 */
function simulateAuditFloor(pairs: Pair[], served: { hit: boolean; sim: number; exact: boolean }[], score: (hit: (i: number) => boolean, only: (i: number) => boolean) => CacheScores) {
  const even = (i: number): boolean => crc32(pairs[i]?.id ?? "") % 2 === 0;
  const buckets = new Map<number, { similarity: number; audits: number; wrong: number }>();
  let audits = 0;
  let wrong = 0;
  served.forEach((r, i) => {
    if (!even(i) || !r.hit || r.exact) return;
    const h = similarityBucket(r.sim);
    const b = buckets.get(h) ?? { similarity: h, audits: 0, wrong: 0 };
    b.audits++;
    audits++;
    if (!pairs[i]?.same) {
      b.wrong++;
      wrong++;
    }
    buckets.set(h, b);
  });
  const odd = (i: number): boolean => !even(i);
  const cuts = similarityCuts([...buckets.values()]);
  const low = wilsonInterval(wrong, audits)[0];
  return {
    audits,
    wrong,
    cuts,
    without_floor: score((i) => served[i]?.hit ?? false, odd),
    bounds: AUDIT_BOUNDS.map((bound) => {
      const guard = new QualityGuard(qualityConfigSchema.parse({ maxWrongHitRate: bound }));
      guard.update([{ category: CATEGORY, audits, wrong, low, cuts }]);
      const allowed = guard.allows(CATEGORY);
      const floor = guard.floor(CATEGORY);
      const keep = (i: number): boolean => (served[i]?.hit ?? false) && ((served[i]?.exact ?? false) || (allowed && (served[i]?.sim ?? 0) >= floor));
      return { bound, suspended: !allowed, floor, ...score(keep, odd) };
    }),
  };
}

function fmt(x: number, d = 3): string {
  return x.toFixed(d);
}

function row(label: string, s: CacheScores): string[] {
  return [label, fmt(s.precision), fmt(s.recall), fmt(s.false_hit_rate, 4), fmt(s.hard_false_hit_rate, 4), String(s.hits), String(s.false_hits)];
}

async function main(): Promise<void> {
  const program = new Command()
    .requiredOption("--data <file>", "pairs JSONL")
    .option("--json <out>", "write results as JSON")
    .option("--limit <n>", "first N pairs only", (v) => Number.parseInt(v, 10))
    .option("--embedder <kind>", "local (shipped: SIF word vectors + lexical) or hashed (lexical only, for comparison)", "local")
    .option("--half <0|1>", "only pairs with crc32(id) % 2 equal to this (held-out split)", (v) => Number.parseInt(v, 10))
    .option("--config <json>", "cache config overrides as JSON (validated by cacheConfigSchema), to evaluate other settings")
    .option("--layout <float32|int8>", "vector index rows", "float32");
  program.parse();
  const opts = program.opts<{ data: string; json?: string; limit?: number; config?: string; half?: number; embedder: string; layout: string }>();
  if (opts.layout !== "float32" && opts.layout !== "int8") throw new Error(`--layout: float32 or int8, not ${opts.layout}`);
  compactIndex = opts.layout === "int8";
  const pairs = readPairs(opts.data, opts.limit, opts.half);
  if (opts.embedder !== "local" && opts.embedder !== "hashed") throw new Error(`--embedder: local or hashed, not ${opts.embedder}`);
  const embedder: Embedder = opts.embedder === "hashed" ? new HashedNgramEmbedder() : createLocalEmbedder();
  const started = performance.now();

  const hard = pairs.map((p) => wordJaccard(p.a, p.b) >= HARD_JACCARD);
  const configured = opts.config ? cacheConfigSchema.parse(JSON.parse(opts.config)) : defaultCacheConfig;
  // Pairs are scored one by one on decision quality; the economics switch (which would turn the layer
  // off for the one category after a run of misses, as traffic economics) is not what is measured here.
  const shipped: CacheConfig = { ...configured, economics: { ...configured.economics, enabled: false } };
  const shortThreshold = thresholdFor(shipped, CATEGORY, false);
  const longThreshold = thresholdFor(shipped, CATEGORY, true);
  const gopts = { structuralMaxWords: shipped.structuralMaxWords };
  // 1) shipped defaults through the engine, with and without the guard
  const verifier = buildVerifier(embedder);
  const withGuard = await runEngine(pairs, shipped, embedder, verifier);
  const noVerifier = await runEngine(pairs, { ...shipped, verifier: { ...shipped.verifier, enabled: false } }, embedder);
  const noGuard = await runEngine(pairs, { ...shipped, precisionGuard: false, verifier: { ...shipped.verifier, enabled: false } }, embedder);
  // 2) raw similarity (threshold 0, no guard) through the engine, then the guard on the same pairs, for the sweep
  const raw = await runEngine(pairs, cacheConfigSchema.parse({ thresholds: { default: 0 }, longTextThresholds: { default: 0 }, precisionGuard: false }), embedder);
  const norm = pairs.map((p) => ({ a: normalizeText(p.a), b: normalizeText(p.b) }));
  const verdicts = norm.map((p) => precisionGuard(p.b, p.a, gopts));
  const words = norm.map((p) => Math.max(contentWordCount(p.a), contentWordCount(p.b)));
  const isLong = words.map((w) => w >= shipped.longTextMinWords);
  const shippedThreshold = (i: number): number => thresholdForLength(shipped, CATEGORY, words[i] ?? 0);
  const exactHit = raw.map((r) => r.exact);

  const scoreSome = (hit: (i: number) => boolean, only: (i: number) => boolean): CacheScores =>
    scoreOutcomes(pairs.flatMap((p, i) => (only(i) ? [{ same: p.same, hard: hard[i] ?? false, hit: hit(i) }] : [])));
  const score = (hit: (i: number) => boolean): CacheScores => scoreSome(hit, () => true);
  const defaults = score((i) => withGuard[i]?.hit ?? false);
  const defaultsNoGuard = score((i) => noGuard[i]?.hit ?? false);
  const defaultsNoVerifier = score((i) => noVerifier[i]?.hit ?? false);
  // The verifier's probability on the same candidates: a sweep of its threshold, served in union with
  // the shipped threshold+guard decision (as the engine combines them).
  const prob = verifier ? norm.map((p, i) => verifier.probability(p.b, p.a, raw[i]?.sim ?? 0)) : [];
  const baseAccept = (i: number): boolean => exactHit[i] === true || ((raw[i]?.sim ?? 0) >= shippedThreshold(i) && (verdicts[i]?.ok ?? false));
  const verifierSweep = verifier
    ? VERIFIER_SWEEP.map((t) => ({ threshold: t, union: score((i) => baseAccept(i) || (prob[i] ?? 0) >= t), alone: score((i) => exactHit[i] === true || (prob[i] ?? 0) >= t) }))
    : [];
  const sweep = SWEEP.map((t) => ({
    threshold: t,
    guard: score((i) => exactHit[i] || ((raw[i]?.sim ?? 0) >= t && (verdicts[i]?.ok ?? false))),
    no_guard: score((i) => exactHit[i] || (raw[i]?.sim ?? 0) >= t),
  }));
  // Ablation at the default threshold: the guard with one check switched off.
  const ablation = CHECKS.map((check) => {
    const v = norm.map((p) => precisionGuard(p.b, p.a, { ...gopts, [check]: false }));
    return { without: check, ...score((i) => exactHit[i] || ((raw[i]?.sim ?? 0) >= shippedThreshold(i) && (v[i]?.ok ?? false))) };
  });
  const rejected: Record<string, { same: number; different: number }> = {};
  verdicts.forEach((v, i) => {
    if (v.ok || (raw[i]?.sim ?? 0) < shippedThreshold(i)) return;
    const r = (rejected[v.check] ??= { same: 0, different: 0 });
    if (pairs[i]?.same) r.same++;
    else r.different++;
  });
  // Needs both halves: audits from the even one, scores on the odd one.
  const auditFloor = opts.half === undefined ? simulateAuditFloor(pairs, withGuard, scoreSome) : undefined;
  const seconds = (performance.now() - started) / 1000;

  const head = ["setting", "precision", "recall", "false-hit rate", "hard FHR", "hits", "false hits"];
  console.log(`\n${opts.data}: ${pairs.length} pairs (${defaults.positives} same, ${defaults.negatives} different, ${defaults.hard_negatives} hard negatives with word Jaccard >= ${HARD_JACCARD})`);
  console.log(`embedder ${embedder.name}@${embedder.version}; one partition per pair (empty cache per pair); ${fmt(seconds, 1)} s`);
  const t1 = new Table({ style: { head: [], border: [] }, head });
  t1.push(
    row(`shipped defaults (thr ${shortThreshold} <=${shipped.shortTextMaxWords}w .. ${longThreshold} >=${shipped.longTextMinWords}w, guard on, verifier ${verifier ? "on" : "n/a"})`, defaults),
    row(`shipped thresholds + guard, verifier off`, defaultsNoVerifier),
    row(`shipped thresholds, guard off, verifier off`, defaultsNoGuard),
  );
  const longShare = isLong.filter(Boolean).length / Math.max(1, pairs.length);
  console.log(`long texts (>= ${shipped.longTextMinWords} content words on the longer side): ${(longShare * 100).toFixed(1)}% of pairs`);
  console.log(t1.toString());
  console.log("sweep: one global threshold for all lengths (as competitors do), guard with shipped options vs none");
  const t2 = new Table({ style: { head: [], border: [] }, head: ["threshold", "P guard", "R guard", "FHR guard", "hard FHR guard", "P no guard", "R no guard", "FHR no guard"] });
  for (const s of sweep) {
    t2.push([String(s.threshold), fmt(s.guard.precision), fmt(s.guard.recall), fmt(s.guard.false_hit_rate, 4), fmt(s.guard.hard_false_hit_rate, 4), fmt(s.no_guard.precision), fmt(s.no_guard.recall), fmt(s.no_guard.false_hit_rate, 4)]);
  }
  console.log(t2.toString());
  if (verifier) {
    console.log(`hit verifier (${verifier.threshold} shipped): its probability threshold, in union with threshold+guard as the engine serves, and alone`);
    const tv = new Table({ style: { head: [], border: [] }, head: ["p >=", "P union", "R union", "FHR union", "hard FHR union", "P alone", "R alone", "hard FHR alone"] });
    for (const v of verifierSweep) tv.push([String(v.threshold), fmt(v.union.precision), fmt(v.union.recall), fmt(v.union.false_hit_rate, 4), fmt(v.union.hard_false_hit_rate, 4), fmt(v.alone.precision), fmt(v.alone.recall), fmt(v.alone.hard_false_hit_rate, 4)]);
    console.log(tv.toString());
  }
  console.log("ablation at shipped thresholds: guard with one check off; rejections counted for the first failing check");
  const t3 = new Table({ style: { head: [], border: [] }, head: ["guard without", "precision", "recall", "false-hit rate", "rejected same/different"] });
  for (const a of ablation) {
    const r = rejected[a.without];
    t3.push([a.without, fmt(a.precision), fmt(a.recall), fmt(a.false_hit_rate, 4), r ? `${r.same}/${r.different}` : "0/0"]);
  }
  console.log(t3.toString());
  if (auditFloor) {
    console.log(`audits simulated: the shipped defaults' ${auditFloor.audits} semantic hits on the even half (crc32(id)), ${auditFloor.wrong} of them on "different" pairs, judged by the labels; the floor each bound (cache.quality.maxWrongHitRate, minAudits 30) sets, scored on the odd half`);
    const t4 = new Table({ style: { head: [], border: [] }, head: ["bound", "floor", "precision", "recall", "false-hit rate", "hard FHR", "hits", "false hits"] });
    t4.push(["none", "-", ...row("", auditFloor.without_floor).slice(1)]);
    for (const b of auditFloor.bounds) t4.push([String(b.bound), b.suspended ? "suspended" : b.floor > 0 ? fmt(b.floor, 2) : "none", ...row("", b).slice(1)]);
    console.log(t4.toString());
  }

  if (opts.json) {
    const result = {
      data: opts.data,
      half: opts.half ?? null,
      n: pairs.length,
      embedder: `${embedder.name}@${embedder.version}`,
      protocol: "one tenant partition per pair (equivalent to an empty cache per pair); store a, look up b through CacheEngine",
      thresholds: { short: shortThreshold, long: longThreshold, short_text_max_words: shipped.shortTextMaxWords, long_text_min_words: shipped.longTextMinWords, structural_max_words: shipped.structuralMaxWords },
      long_text_share: longShare,
      defaults,
      defaults_no_guard: defaultsNoGuard,
      defaults_no_verifier: defaultsNoVerifier,
      verifier: verifier ? { threshold: verifier.threshold, sweep: verifierSweep } : null,
      sweep,
      ablation,
      guard_rejections_at_default_threshold: rejected,
      audit_floor: auditFloor ?? null,
      seconds,
    };
    writeFileSync(opts.json, `${JSON.stringify(result, null, 2)}\n`);
  }
}

await main();
