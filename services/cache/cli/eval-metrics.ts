/** Pure scoring of cache decisions on labelled pairs (precision, recall, false-hit rates). */

export interface PairOutcome {
  same: boolean;
  hard: boolean;
  hit: boolean;
}

export interface CacheScores {
  n: number;
  positives: number;
  negatives: number;
  hard_negatives: number;
  hits: number;
  true_hits: number;
  false_hits: number;
  precision: number;
  recall: number;
  false_hit_rate: number;
  hard_false_hit_rate: number;
}

function ratio(num: number, den: number): number {
  return den === 0 ? 0 : num / den;
}

export function scoreOutcomes(outcomes: PairOutcome[]): CacheScores {
  let positives = 0;
  let negatives = 0;
  let hardNeg = 0;
  let tp = 0;
  let fp = 0;
  let hardFp = 0;
  for (const o of outcomes) {
    if (o.same) {
      positives++;
      if (o.hit) tp++;
    } else {
      negatives++;
      if (o.hard) hardNeg++;
      if (o.hit) {
        fp++;
        if (o.hard) hardFp++;
      }
    }
  }
  return {
    n: outcomes.length,
    positives,
    negatives,
    hard_negatives: hardNeg,
    hits: tp + fp,
    true_hits: tp,
    false_hits: fp,
    // No hits means no wrong answer served: precision is 1 by convention (reported with hits = 0).
    precision: tp + fp === 0 ? 1 : tp / (tp + fp),
    recall: ratio(tp, positives),
    false_hit_rate: ratio(fp, negatives),
    hard_false_hit_rate: ratio(hardFp, hardNeg),
  };
}
