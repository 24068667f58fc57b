// The report of a savings replay: one table (cli-table3), the JSON document, and a cost-quality SVG. Pure.
import Table from "cli-table3";
import type { SavingsResult } from "./references.ts";

export interface SavingsReport {
  n: number;
  results: SavingsResult[];
  [extra: string]: unknown;
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const usd = (x: number): string => `$${x.toFixed(x >= 1 ? 2 : 4)}`;

export function buildReport(n: number, results: readonly SavingsResult[], extra: Record<string, unknown> = {}): SavingsReport {
  return { n, results: results.map((r) => ({ ...r })), ...extra };
}

export function renderTable(results: readonly SavingsResult[]): string {
  const t = new Table({
    head: ["strategy", "cost", "baseline", "savings", "cache", "routing", "cascade", "strong share", "quality", "retained"],
    colAligns: ["left", "right", "right", "right", "right", "right", "right", "right", "right", "right"],
    style: { head: [], border: [] },
  });
  for (const r of results) {
    t.push([
      r.name,
      usd(r.cost_usd),
      usd(r.baseline_usd),
      pct(r.savings),
      pct(r.split.cache),
      pct(r.split.routing),
      pct(r.split.cascade),
      pct(r.strong_share),
      r.quality.toFixed(3),
      r.retained === null ? "-" : pct(r.retained),
    ]);
  }
  return t.toString();
}

const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** Round tick steps (1, 2, 5 × 10^k) covering [lo, hi]. */
export function ticks(lo: number, hi: number, target = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag);
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** Cost (x, USD) against quality (y) for every strategy, hand-written SVG with axes, ticks and labels. */
export function renderSvg(results: readonly SavingsResult[], title: string): string {
  const W = 720, H = 480, L = 80, R = 170, T = 50, B = 60;
  const xs = results.map((r) => r.cost_usd);
  const ys = results.map((r) => r.quality);
  const x0 = 0, x1 = Math.max(...xs, 1e-9) * 1.08;
  const yLo = Math.max(0, Math.min(...ys) - 0.05), yHi = Math.min(1, Math.max(...ys) + 0.05);
  const y0 = yHi > yLo ? yLo : 0, y1 = yHi > yLo ? yHi : 1;
  const px = (x: number): number => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const py = (y: number): number => H - B - ((y - y0) / (y1 - y0)) * (H - T - B);
  const f = (v: number): string => v.toFixed(1);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="15">${esc(title)}</text>`);
  for (const v of ticks(x0, x1)) {
    parts.push(`<line x1="${f(px(v))}" y1="${T}" x2="${f(px(v))}" y2="${H - B}" stroke="#eee"/>`);
    parts.push(`<text x="${f(px(v))}" y="${H - B + 16}" text-anchor="middle">${esc(`$${v.toPrecision(3)}`)}</text>`);
  }
  for (const v of ticks(y0, y1)) {
    parts.push(`<line x1="${L}" y1="${f(py(v))}" x2="${W - R}" y2="${f(py(v))}" stroke="#eee"/>`);
    parts.push(`<text x="${L - 8}" y="${f(py(v) + 4)}" text-anchor="end">${v.toFixed(2)}</text>`);
  }
  parts.push(`<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/>`);
  parts.push(`<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>`);
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 18}" text-anchor="middle">cost (USD, list prices)</text>`);
  parts.push(`<text transform="translate(22 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">quality (recorded correctness / score)</text>`);
  const colors: Record<string, string> = { gateway: "#d62728", "all-strong": "#1f77b4", "all-weak": "#2ca02c", random: "#7f7f7f", oracle: "#9467bd", "learned-classifier": "#ff7f0e" };
  results.forEach((r, i) => {
    const c = colors[r.name] ?? "black";
    const cx = px(r.cost_usd), cy = py(r.quality);
    parts.push(`<circle cx="${f(cx)}" cy="${f(cy)}" r="${r.name === "gateway" ? 7 : 5}" fill="${c}"/>`);
    parts.push(`<text x="${f(cx + 9)}" y="${f(cy - 6)}" fill="${c}">${esc(r.name)}</text>`);
    const ly = T + 10 + i * 34;
    parts.push(`<circle cx="${W - R + 20}" cy="${ly}" r="5" fill="${c}"/>`);
    parts.push(`<text x="${W - R + 30}" y="${ly + 4}">${esc(r.name)}</text>`);
    parts.push(`<text x="${W - R + 30}" y="${ly + 18}" fill="#555" font-size="11">${esc(`${usd(r.cost_usd)}, q ${r.quality.toFixed(3)}, saves ${pct(r.savings)}`)}</text>`);
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
