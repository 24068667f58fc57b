// Router evaluation over benchmark rows: curves, CPT, APGR, default operating points, timing.
// Pure apart from the clock used for timing; file I/O lives in the CLI.
import { verifyAnswer } from "#libs/quality/verify.ts";
import type { BenchRow } from "./benchmark.ts";
import { apgr, cpt, operatingPoint, pgr, routingCurve, thinCurve, type CurvePoint, type ScoredItem } from "./metrics.ts";
import { needsStrong } from "./tier.ts";
import type { Classifier } from "./types.ts";

export interface RouterReport {
  name: string;
  strong_share: number;
  quality: number;
  pgr: number;
  cpt50: number | null;
  cpt80: number | null;
  /** null for fixed reference points (all-weak, all-strong), which have no curve. */
  apgr: number | null;
  /** Cost saving at CPT(50%) relative to a random router (0.5 / cpt50). */
  savings50_vs_random: number | null;
  curve: CurvePoint[];
  note?: string;
  /** Cascade only: how well the verifier picks out wrong cheap answers (labels used for measuring only). */
  verifier?: { precision: number; recall: number; escalated: number };
}

export interface TimingReport {
  p50_us: number;
  p99_us: number;
  mean_us: number;
  samples: number;
}

export interface EvalReport {
  dataset: string;
  n: number;
  reference: { weak: number; strong: number; oracle: number };
  routers: RouterReport[];
  timing: Record<string, TimingReport>;
}

export interface EvalOptions {
  dataset: string;
  classifiers: Classifier[];
  /** Points kept per curve in the report. */
  curvePoints?: number;
  now?: () => bigint;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const r4 = (x: number): number => Math.round(x * 10_000) / 10_000;

function report(
  name: string,
  items: ScoredItem[],
  decisions: boolean[],
  weak: number,
  strong: number,
  curvePoints: number,
  curveOverride?: CurvePoint[],
): RouterReport {
  const curve = curveOverride ?? routingCurve(items);
  const op = operatingPoint(items, decisions);
  const c50 = cpt(curve, weak, strong, 0.5);
  return {
    name,
    strong_share: r4(op.share),
    quality: r4(op.quality),
    pgr: r4(pgr(op.quality, weak, strong)),
    cpt50: c50 === null ? null : r4(c50),
    cpt80: ((v) => (v === null ? null : r4(v)))(cpt(curve, weak, strong, 0.8)),
    apgr: curve.length < 2 ? null : r4(apgr(curve, weak, strong)),
    savings50_vs_random: c50 === null || c50 === 0 ? null : r4(0.5 / c50),
    curve: thinCurve(curve, curvePoints).map((p) => ({ share: r4(p.share), quality: r4(p.quality), threshold: Number.isFinite(p.threshold) ? r4(p.threshold) : p.threshold })),
  };
}

/**
 * GSM8K-style cascade: answer with weak, verify the weak answer, escalate when it fails.
 * Format: "gsm8k" (a "#### <whole number>" final answer) or the generic "final-number".
 */
export function cascadeDecision(weakResponse: string, format: "gsm8k" | "final-number" = "gsm8k"): { escalate: boolean; score: number } {
  const v = verifyAnswer(
    { request: { jsonMode: false, hasTools: false, expectFormat: format }, answer: { content: weakResponse, finishReason: "stop" } },
    { arithmetic: true, derivedFinal: true },
  );
  return { escalate: !v.ok, score: 1 - v.score };
}

export function evaluateRouters(rows: BenchRow[], opts: EvalOptions): EvalReport {
  const n = rows.length;
  const now = opts.now ?? (() => process.hrtime.bigint());
  const cp = opts.curvePoints ?? 21;
  const weak = rows.reduce((s, r) => s + r.weakQuality, 0) / n;
  const strong = rows.reduce((s, r) => s + r.strongQuality, 0) / n;
  const base = (score: number, r: BenchRow): ScoredItem => ({ score, weakQuality: r.weakQuality, strongQuality: r.strongQuality });
  const routers: RouterReport[] = [];
  const timing: Record<string, TimingReport> = {};

  routers.push(report("all-weak", rows.map((r) => base(0, r)), rows.map(() => false), weak, strong, cp, [
    { share: 0, quality: weak, threshold: Infinity },
  ]));
  routers.push(report("all-strong", rows.map((r) => base(0, r)), rows.map(() => true), weak, strong, cp, [
    { share: 1, quality: strong, threshold: 0 },
  ]));
  // Random: its expected curve is the straight line weak → strong; default point at 50%.
  const randomItems = rows.map((r, i) => base(i % 2, r));
  const randomCurve: CurvePoint[] = [
    { share: 0, quality: weak, threshold: 1 },
    { share: 1, quality: strong, threshold: 0 },
  ];
  const half = Math.floor(n / 2);
  const randomRep = report("random", randomItems, rows.map((_, i) => i < half), weak, strong, cp, randomCurve);
  randomRep.strong_share = r4(0.5);
  randomRep.quality = r4((weak + strong) / 2);
  randomRep.pgr = 0.5;
  randomRep.note = "expected value of uniform random routing";
  routers.push(randomRep);

  const oracleItems = rows.map((r) => base(r.strongQuality - r.weakQuality, r));
  const oracle = report("oracle", oracleItems, rows.map((r) => r.strongQuality > r.weakQuality), weak, strong, cp);
  routers.push(oracle);

  const classifierScores = new Map<string, number[]>();
  for (const c of opts.classifiers) {
    // Warm-up so JIT compilation does not land in the timing.
    for (let i = 0; i < Math.min(50, n); i++) c.classify(rows[i]!.input);
    const times: number[] = [];
    const items: ScoredItem[] = [];
    const decisions: boolean[] = [];
    for (const r of rows) {
      const t0 = now();
      const out = c.classify(r.input);
      times.push(Number(now() - t0) / 1000);
      items.push(base(out.strongProbability, r));
      decisions.push(needsStrong(out.tier));
    }
    // Small files: repeat passes so p99 is a percentile, not the single slowest call.
    for (let pass = 1; times.length < 2000 && pass < 50; pass++) {
      for (const r of rows) {
        const t0 = now();
        c.classify(r.input);
        times.push(Number(now() - t0) / 1000);
      }
    }
    times.sort((a, b) => a - b);
    timing[c.name] = {
      p50_us: Math.round(quantile(times, 0.5) * 10) / 10,
      p99_us: Math.round(quantile(times, 0.99) * 10) / 10,
      mean_us: Math.round((times.reduce((a, b) => a + b, 0) / times.length) * 10) / 10,
      samples: times.length,
    };
    classifierScores.set(c.name, items.map((it) => it.score));
    routers.push(report(c.name, items, decisions, weak, strong, cp));
  }

  if (rows.every((r) => r.weakResponse !== undefined)) {
    const format = rows.every((r) => r.dataset === "gsm8k") ? "gsm8k" : "final-number";
    const dec = rows.map((r) => cascadeDecision(r.weakResponse ?? "", format));
    const rep = report("cascade", rows.map((r, i) => base(dec[i]!.score, r)), dec.map((d) => d.escalate), weak, strong, cp);
    rep.note = "weak answers every call; strong_share = escalation rate (verifier failed)";
    let esc = 0;
    let escWrong = 0;
    let wrong = 0;
    rows.forEach((r, i) => {
      const isWrong = r.weakQuality < 1;
      if (isWrong) wrong++;
      if (dec[i]!.escalate) {
        esc++;
        if (isWrong) escWrong++;
      }
    });
    rep.verifier = { precision: r4(esc ? escWrong / esc : 0), recall: r4(wrong ? escWrong / wrong : 0), escalated: esc };
    routers.push(rep);
    // Cascade whose sweep continues past the verifier's failures in the classifier's order.
    for (const [name, scores] of classifierScores) {
      const combo = report(`cascade+${name}`, rows.map((r, i) => base(dec[i]!.score * 10 + scores[i]!, r)), dec.map((d) => d.escalate), weak, strong, cp);
      combo.note = "escalate verifier failures first, then by the classifier's strongProbability";
      routers.push(combo);
    }
  }

  return { dataset: opts.dataset, n, reference: { weak: r4(weak), strong: r4(strong), oracle: oracle.quality }, routers, timing };
}
