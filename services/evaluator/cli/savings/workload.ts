// The requests of a run: which rows, in which order, and which are asked again. Seeded, so a run is repeatable. Pure.
import { createRng } from "#libs/random/rng.ts";

export interface Planned<R> {
  row: R;
  /** A second asking of a row already asked in the first phase. */
  repeat: boolean;
}

function shuffle<T>(xs: T[], rng: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = xs[i] as T;
    xs[i] = xs[j] as T;
    xs[j] = t;
  }
  return xs;
}

/**
 * Rows to ask: with a limit, `limit` rows split as evenly as possible over the sources (files), each source's share
 * a seeded sample; then all of them in a seeded order. Without a limit, every row.
 */
export function selectRows<R extends { source: string }>(rows: readonly R[], limit: number | undefined, seed: number): R[] {
  const rng = createRng(seed);
  if (limit === undefined || limit >= rows.length) return shuffle([...rows], rng);
  const bySource = new Map<string, R[]>();
  for (const r of rows) {
    const list = bySource.get(r.source);
    if (list === undefined) bySource.set(r.source, [r]);
    else list.push(r);
  }
  // Even split; a source with fewer rows than its share gives the rest to the others.
  const groups = [...bySource.values()].sort((a, b) => a.length - b.length);
  const picked: R[] = [];
  let left = limit;
  groups.forEach((g, i) => {
    const share = Math.min(g.length, Math.floor(left / (groups.length - i)) + (left % (groups.length - i) > 0 ? 1 : 0));
    picked.push(...shuffle([...g], rng).slice(0, share));
    left -= share;
  });
  return shuffle(picked, rng);
}

/**
 * First phase: every selected row once. Second phase: round(repeatShare × n) of them again (a seeded sample without
 * replacement, in a seeded order), asked after the first phase has finished so the cache has seen them.
 */
export function planRequests<R>(rows: readonly R[], repeatShare: number, seed: number): Planned<R>[] {
  if (!(repeatShare >= 0 && repeatShare <= 1)) throw new Error(`repeat share must be in [0, 1], got ${repeatShare}`);
  const first = rows.map((row) => ({ row, repeat: false }));
  const k = Math.round(repeatShare * rows.length);
  const again = shuffle([...rows], createRng(seed ^ 0x5eed))
    .slice(0, k)
    .map((row) => ({ row, repeat: true }));
  return [...first, ...again];
}
