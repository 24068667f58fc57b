/** Tokenisation shared by the local embedder and the precision guard. */

export const STOPWORDS = new Set(
  (
    "a an the of to in on at for from by with about as into onto over under and or but if then so than that this these those " +
    "is are was were be been being am do does did doing done have has had having will would shall should can could may might must " +
    "i me my mine we us our ours you your yours he him his she her hers it its they them their theirs " +
    "what which who whom whose when where why how there here " +
    "some any all each every both either much many such own same other another just also too very really " +
    "get got getting one ones thing things way ways someone something anyone anything please tell know"
  ).split(" "),
);

/** Lowercase word tokens with accents stripped; apostrophes kept inside words ("don't"). */
export function wordTokens(text: string): string[] {
  const raw =
    text
      .normalize("NFKD")
      .replace(/[\u0300-\u036f]/g, "")
      .toLowerCase()
      .match(/[a-z0-9]+(?:['’][a-z]+)?/g) ?? [];
  const out: string[] = [];
  for (const t of raw) {
    // Split clitics ("what's" -> what is) but keep "n't" forms whole: they carry negation.
    const m = /^(.+?)['’](s|re|ve|ll|d|m)$/.exec(t);
    if (m && m[1]) {
      out.push(m[1]);
      if (m[2] === "re") out.push("are");
      else if (m[2] === "s") out.push("is");
    } else out.push(t.replace("’", "'"));
  }
  return out;
}

/** Crude suffix stripping: enough to make "learning"/"learn" and "cars"/"car" share a word feature. */
export function stem(word: string): string {
  if (word.length <= 4 || /\d/.test(word)) return word;
  for (const suffix of ["ingly", "edly", "ing", "ies", "ied", "ers", "ed", "es", "er", "ly", "s"]) {
    if (word.endsWith(suffix) && word.length - suffix.length >= 3) {
      const base = word.slice(0, -suffix.length);
      return suffix === "ies" || suffix === "ied" ? `${base}y` : base;
    }
  }
  return word;
}

export function wordJaccard(a: string, b: string): number {
  const sa = new Set(wordTokens(a));
  const sb = new Set(wordTokens(b));
  if (sa.size === 0 && sb.size === 0) return 1;
  let inter = 0;
  for (const w of sa) if (sb.has(w)) inter++;
  return inter / (sa.size + sb.size - inter);
}
