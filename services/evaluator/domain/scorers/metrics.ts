// How well a scorer's "cheap answer acceptable" verdict tells a correct cheap answer from a wrong one,
// measured against labels (weak_correct), and what a downgrade decided by it would cost: serve the
// cheap answer when the scorer accepts it, the strong one otherwise. Pure functions.

/** Positive = "the cheap answer is acceptable": predicted by the scorer (ok), true when the cheap answer is correct. */
export interface Confusion {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

export function confusion(predicted: readonly boolean[], truth: readonly boolean[]): Confusion {
  if (predicted.length !== truth.length) throw new Error(`confusion: ${predicted.length} predictions for ${truth.length} labels`);
  const c: Confusion = { tp: 0, fp: 0, fn: 0, tn: 0 };
  for (let i = 0; i < predicted.length; i++) {
    const p = predicted[i] === true;
    const t = truth[i] === true;
    if (p && t) c.tp++;
    else if (p) c.fp++;
    else if (t) c.fn++;
    else c.tn++;
  }
  return c;
}

/** Share of accepted cheap answers that are correct; null when nothing was accepted. */
export function precision(c: Confusion): number | null {
  return c.tp + c.fp === 0 ? null : c.tp / (c.tp + c.fp);
}

/** Share of correct cheap answers that were accepted; null when none is correct. */
export function recall(c: Confusion): number | null {
  return c.tp + c.fn === 0 ? null : c.tp / (c.tp + c.fn);
}

/**
 * Cohen's kappa between the scorer's verdict and the label: (po - pe) / (1 - pe), po the observed
 * agreement, pe the agreement expected by chance from both marginals. null when pe = 1 (both sides
 * constant and equal: kappa is undefined).
 */
export function cohenKappa(c: Confusion): number | null {
  const n = c.tp + c.fp + c.fn + c.tn;
  if (n === 0) return null;
  const po = (c.tp + c.tn) / n;
  const pe = ((c.tp + c.fp) * (c.tp + c.fn) + (c.fn + c.tn) * (c.fp + c.tn)) / (n * n);
  if (pe >= 1) return null;
  return (po - pe) / (1 - pe);
}

/**
 * ROC AUC of a score against the labels: the probability that a random correct item scores higher
 * than a random wrong one (ties count half). null without both classes.
 */
export function rocAuc(scores: readonly number[], truth: readonly boolean[]): number | null {
  const idx = scores.map((s, i) => ({ s, t: truth[i] === true })).sort((a, b) => a.s - b.s);
  const pos = idx.filter((x) => x.t).length;
  const neg = idx.length - pos;
  if (pos === 0 || neg === 0) return null;
  // Mann-Whitney U with mid-ranks for ties.
  let rankSumPos = 0;
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j < idx.length && idx[j]!.s === idx[i]!.s) j++;
    const midRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (idx[k]!.t) rankSumPos += midRank;
    i = j;
  }
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

export interface DowngradeItem {
  /** The scorer accepted the cheap answer (it would be served). */
  accepted: boolean;
  weakCorrect: boolean;
  strongCorrect: boolean;
}

export interface DowngradeOutcome {
  n: number;
  /** Share of items served by the cheap model. */
  acceptedShare: number;
  /** mean(accepted ? weakCorrect : strongCorrect). */
  accuracy: number;
  allStrong: number;
  allWeak: number;
  /** (allStrong - accuracy) in percentage points: the accuracy the downgrade costs. */
  dropPoints: number;
  /** Expected accuracy of accepting the same share at random: share·allWeak + (1 - share)·allStrong. */
  randomSameShare: number;
  /** Share of all items where a wrong cheap answer was served (the scorer's false accepts). */
  wrongServedShare: number;
  /** Share of items made wrong by the downgrade: accepted, the cheap answer wrong, the strong one right. */
  lostShare: number;
  /** Share of items made right by the downgrade: accepted, the cheap answer right, the strong one wrong. */
  gainedShare: number;
}

export function downgradeOutcome(items: readonly DowngradeItem[]): DowngradeOutcome {
  const n = items.length;
  if (n === 0) throw new Error("downgradeOutcome: no items");
  let accepted = 0;
  let correct = 0;
  let strong = 0;
  let weak = 0;
  let wrongServed = 0;
  let lost = 0;
  let gained = 0;
  for (const it of items) {
    if (it.accepted) accepted++;
    if (it.accepted ? it.weakCorrect : it.strongCorrect) correct++;
    if (it.strongCorrect) strong++;
    if (it.weakCorrect) weak++;
    if (it.accepted && !it.weakCorrect) wrongServed++;
    if (it.accepted && !it.weakCorrect && it.strongCorrect) lost++;
    if (it.accepted && it.weakCorrect && !it.strongCorrect) gained++;
  }
  const share = accepted / n;
  const accuracy = correct / n;
  const allStrong = strong / n;
  const allWeak = weak / n;
  return {
    n,
    acceptedShare: share,
    accuracy,
    allStrong,
    allWeak,
    dropPoints: (allStrong - accuracy) * 100,
    randomSameShare: share * allWeak + (1 - share) * allStrong,
    wrongServedShare: wrongServed / n,
    lostShare: lost / n,
    gainedShare: gained / n,
  };
}

export interface ScoredItem extends DowngradeItem {
  /** The scorer's 0..1 score. */
  score: number;
}

export interface ScorerMetrics {
  scorer: string;
  n: number;
  confusion: Confusion;
  precision: number | null;
  recall: number | null;
  kappa: number | null;
  auc: number | null;
  downgrade: DowngradeOutcome;
}

export function scorerMetrics(scorer: string, items: readonly ScoredItem[]): ScorerMetrics {
  const c = confusion(
    items.map((i) => i.accepted),
    items.map((i) => i.weakCorrect),
  );
  return {
    scorer,
    n: items.length,
    confusion: c,
    precision: precision(c),
    recall: recall(c),
    kappa: cohenKappa(c),
    auc: rocAuc(
      items.map((i) => i.score),
      items.map((i) => i.weakCorrect),
    ),
    downgrade: downgradeOutcome(items),
  };
}

export interface SweepPoint {
  threshold: number;
  precision: number | null;
  recall: number | null;
  kappa: number | null;
  acceptedShare: number;
  accuracy: number;
  dropPoints: number;
}

/** Re-decides acceptance as score >= threshold for each threshold (a scorer's operating curve). */
export function thresholdSweep(items: readonly ScoredItem[], thresholds: readonly number[]): SweepPoint[] {
  return thresholds.map((t) => {
    const decided = items.map((i) => ({ ...i, accepted: i.score >= t }));
    const m = scorerMetrics("sweep", decided);
    return { threshold: t, precision: m.precision, recall: m.recall, kappa: m.kappa, acceptedShare: m.downgrade.acceptedShare, accuracy: m.downgrade.accuracy, dropPoints: m.downgrade.dropPoints };
  });
}
