// Which recorded answer the gateway served for a request, and its quality. The side comes from the model that
// answered (x-llmgw-model); the text confirms it: it must be that side's recorded answer to this row. A cache hit
// serves an earlier answer: the same row's (exact hit, or a semantic hit on the same question) is recognised by its
// text like any other; an answer recorded for a different row (a semantic hit on a neighbouring question) is
// "foreign" and scored against this row's known right answer where there is one. Pure.
import { extractChoiceLetter, extractFinalNumber, numbersAgree } from "#libs/quality/extract.ts";
import { answerText, choiceLetters, type ReplayRow, type ReplaySide } from "#libs/simulator/replay.ts";
import { qualityValue, type CorrectnessOf } from "./references.ts";

export type ServedSide = ReplaySide | "foreign";

export interface Served {
  side: ServedSide;
  quality: number;
  /** The header named one side but the text is the other side's answer (never expected). */
  headerMismatch: boolean;
}

/** MT-Bench judge's lowest score, for an answer to a different question. */
const OFF_TOPIC_SCORE = 1;

/** Quality of an answer that is not one of this row's recorded answers. */
export function foreignQuality(row: ReplayRow, text: string): number {
  switch (row.kind) {
    case "choice":
      return extractChoiceLetter(text)?.letter === choiceLetters(row.id, row.weakCorrect, row.strongCorrect).right ? 1 : 0;
    case "answered": {
      // A known right final number: the strong answer's when it is right, else the weak one's.
      const right = row.strongCorrect ? row.strongResponse : row.weakCorrect ? row.weakResponse : undefined;
      const want = right === undefined ? undefined : extractFinalNumber(right)?.value;
      const got = extractFinalNumber(text)?.value;
      return want !== undefined && got !== undefined && numbersAgree(want, got) ? 1 : 0;
    }
    case "scored":
      return OFF_TOPIC_SCORE / 10;
  }
}

/**
 * `cacheHit`: the answer came from the cache; `earlierText` is what this run was first served for this row (undefined
 * when the row was never answered before). A hit that is not that text is an answer stored for another question,
 * even when its text happens to equal one of this row's (two MMLU answers "The answer is (B)." look alike).
 */
export function attributeServed(
  row: ReplayRow,
  text: string,
  headerSide: ReplaySide | undefined,
  correctnessOf: CorrectnessOf,
  cache?: { hit: boolean; earlierText: string | undefined },
): Served {
  const t = text.trim();
  if (cache?.hit === true && cache.earlierText?.trim() !== t) return { side: "foreign", quality: foreignQuality(row, t), headerMismatch: false };
  const is = (s: ReplaySide): boolean => t === answerText(row, s);
  const served = (side: ReplaySide): Served => ({ side, quality: qualityValue(correctnessOf(row.rowId, side), row.rowId), headerMismatch: headerSide !== undefined && headerSide !== side });
  if (headerSide !== undefined && is(headerSide)) return served(headerSide);
  if (is("strong")) return served("strong");
  if (is("weak")) return served("weak");
  return { side: "foreign", quality: foreignQuality(row, t), headerMismatch: false };
}
