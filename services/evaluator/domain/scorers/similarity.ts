// "similarity": local, deterministic text similarity of the candidate to the reference (character
// 3-gram and word uni+bigram TF cosines, averaged; libs/quality/similarity.ts). No model, no download.
// A weak signal on its own: a correct paraphrase can score low, a wrong answer that copies the
// reference's wording high; use it as one vote among others.
import { textSimilarity, type SimilarityOptions } from "#libs/quality/similarity.ts";
import { round3, type Scorer, type ScorerInput, type ScorerVerdict } from "./types.ts";

export interface SimilarityScorerOptions extends SimilarityOptions {
  /** Similarity at or above which the candidate is acceptable (default DEFAULT_SIMILARITY_THRESHOLD). */
  threshold?: number;
  /**
   * Count this scorer in the combined verdict. Default false: it is advisory (recorded, not voting),
   * because on gsm8k-dev making it a veto lost recall for almost no precision.
   */
  vote?: boolean;
}

/** Default threshold: the best Cohen's kappa of the CLI's threshold sweep on gsm8k-dev (0.3..0.9 by 0.1). */
export const DEFAULT_SIMILARITY_THRESHOLD = 0.6;

export function similarityScorer(options: SimilarityScorerOptions = {}): Scorer {
  const threshold = options.threshold ?? DEFAULT_SIMILARITY_THRESHOLD;
  return {
    name: "similarity",
    advisory: !(options.vote ?? false),
    async score(input: ScorerInput): Promise<ScorerVerdict> {
      const s = round3(textSimilarity(input.candidate, input.reference, options));
      return { ok: s >= threshold, score: s, detail: `similarity ${s} (threshold ${threshold})` };
    },
  };
}
