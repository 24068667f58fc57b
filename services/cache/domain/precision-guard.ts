import { STOPWORDS, stem, wordTokens } from "./text-features.ts";

/**
 * Second opinion after nearest-neighbour search: a high cosine hides one-word differences that flip the
 * answer ("capital of France" / "capital of Germany", "with" / "without", 2019 / 2020). Each check
 * compares a small extracted set; any difference rejects the candidate. Pure and table-tested.
 */
export type GuardCheck =
  | "numbers"
  | "negation"
  | "entities"
  | "quoted"
  | "literal"
  | "dates"
  | "units"
  | "comparison"
  | "question"
  | "person"
  | "specificity"
  | "swap"
  | "order";

export type GuardVerdict = { ok: true } | { ok: false; check: GuardCheck; detail: string };

/** Number words and their value, so "two" and "2" are the same number. */
const NUMBER_WORDS = new Map<string, string>(
  (
    "zero:0 one:1 two:2 three:3 four:4 five:5 six:6 seven:7 eight:8 nine:9 ten:10 eleven:11 twelve:12 thirteen:13 fourteen:14 " +
    "fifteen:15 sixteen:16 seventeen:17 eighteen:18 nineteen:19 twenty:20 thirty:30 forty:40 fifty:50 sixty:60 seventy:70 eighty:80 " +
    "ninety:90 hundred:100 thousand:1000 million:1000000 billion:1000000000 trillion:1000000000000 first:1st second:2nd third:3rd " +
    "fourth:4th fifth:5th sixth:6th seventh:7th eighth:8th ninth:9th tenth:10th half:1/2 quarter:1/4 dozen:12"
  )
    .split(" ")
    .map((kv) => kv.split(":") as [string, string]),
);
const NEGATIONS = new Set(["not", "no", "never", "without", "none", "nobody", "nothing", "neither", "nor", "cannot", "isn't", "aren't", "wasn't", "weren't", "don't", "doesn't", "didn't", "won't", "wouldn't", "can't", "couldn't", "shouldn't", "haven't", "hasn't", "hadn't", "mustn't", "except", "unless", "avoid",
  // Negation cues beyond "not": paraphrases trade "to avoid X" for "to prevent X", "without" for "non-"/"in the absence of".
  "prevent", "prevents", "preventing", "non", "absence", "absent", "lack", "lacks", "lacking"]);
const MONTHS = new Set("january february march april may june july august september october november december jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday saturday sunday today tomorrow yesterday tonight weekend".split(" "));
const UNITS = new Set("km kilometer kilometers kilometre kilometres m meter meters metre metres cm mm mile miles ft feet foot inch inches yard yards kg kilogram kilograms g gram grams lb lbs pound pounds oz ounce ounces l liter liters litre litres ml gallon gallons celsius fahrenheit kelvin c f percent usd eur gbp inr dollar dollars euro euros rupee rupees yen cent cents mph kmh kph hour hours minute minutes second seconds day days week weeks month months year years decade decades century centuries gb mb kb tb ghz mhz hz kw kwh watt watts volt volts amp amps".split(" "));
const COMPARISON = new Set("more less most least better best worse worst bigger biggest smaller smallest larger largest higher highest lower lowest greater greatest fewer fewest cheaper cheapest faster fastest slower slowest older oldest newer newest younger youngest longer longest shorter shortest stronger strongest weaker weakest before after above below over under vs versus than max min maximum minimum increase decrease difference differences between".split(" "));
/** Sentence starters and pronouns that are capitalised by position, not because they name something. */
const CAP_NOISE = new Set(["i", "i'm", "i've", "i'd", "i'll", "what", "how", "why", "when", "where", "who", "which", "is", "are", "can", "do", "does", "should", "would", "will", "the", "a", "an", "if", "in", "on"]);

/** Question words whose swap changes what is asked ("how" and "what" are too interchangeable to be on this list). */
const WH_STRICT = new Set(["why", "when", "where", "who", "whom", "whose"]);
const AUXILIARIES = new Set(["is", "are", "was", "were", "do", "does", "did", "can", "could", "should", "would", "will", "has", "have", "had", "may", "might", "must", "shall"]);
const SECOND_PERSON = new Set(["you", "your", "yours", "yourself", "yourselves", "you're", "you've", "you'd", "you'll"]);
/** Words that add no specificity when one side merely has them in addition. */
const FILLER = new Set("explain describe mean meaning means define definition best good some ever exactly actually basically example examples list kind kinds type types main common usually possible really".split(" "));

/**
 * Asked, not stated: ends with "?" or opens with a question word or auxiliary. In a statement "when",
 * "where", "who" are conjunctions ("when you call X") and "you" is generic ("you can use X").
 */
function isQuestion(text: string, words: string[]): boolean {
  const first = words[0] ?? "";
  return /\?\s*$/.test(text) || WH_STRICT.has(first) || AUXILIARIES.has(first) || first === "what" || first === "how" || first === "which";
}

function questionShape(words: string[]): string {
  const wh = [...new Set(words.filter((w) => WH_STRICT.has(w)))].sort().join(",");
  const first = words[0] ?? "";
  const yesNo = AUXILIARIES.has(first) ? "yn" : "";
  return `${wh}|${yesNo}`;
}

export function contentSet(words: string[]): Set<string> {
  const out = new Set<string>();
  // Numbers are the numbers check's business; here they would only double-count.
  for (const w of words) if (!STOPWORDS.has(w) && !FILLER.has(w) && !SECOND_PERSON.has(w) && !NUMBER_WORDS.has(w) && !/^\d+$/.test(w)) out.add(stem(w));
  return out;
}

/** One side says everything the other says plus more: an answer to the general question does not fit the specific one. */
function specificityGap(ca: Set<string>, cb: Set<string>): string | undefined {
  const onlyA = unmatched(ca, cb);
  const onlyB = unmatched(cb, ca);
  if (onlyA.length === 0 && onlyB.length > 0) return onlyB[0];
  if (onlyB.length === 0 && onlyA.length > 0) return onlyA[0];
  return undefined;
}

const SWAP_MAX = 1;

function trigrams(w: string): Set<string> {
  const p = `<${w}>`;
  const out = new Set<string>();
  for (let i = 0; i + 3 <= p.length; i++) out.add(p.slice(i, i + 3));
  return out;
}

/** Same word up to spelling/morphology: high trigram overlap ("travelling"/"travellers"). */
function fuzzyEqual(x: string, y: string): boolean {
  if (x === y) return true;
  if (Math.min(x.length, y.length) < 5) return false;
  const tx = trigrams(x);
  const ty = trigrams(y);
  let inter = 0;
  for (const t of tx) if (ty.has(t)) inter++;
  return inter / (tx.size + ty.size - inter) >= 0.5;
}

export function unmatched(from: Set<string>, other: Set<string>): string[] {
  const out: string[] = [];
  for (const w of from) {
    if (other.has(w)) continue;
    let found = false;
    for (const o of other) if (fuzzyEqual(w, o)) found = true;
    if (!found) out.push(w);
  }
  return out;
}

/** Shared content words appearing in opposite order: "convert benzene into toluene" / "toluene into benzene". */
function orderInversion(wa: string[], wb: string[], ca: Set<string>, cb: Set<string>): string | undefined {
  const seqA = [...new Set(wa.map(stem).filter((w) => ca.has(w) && cb.has(w)))];
  const posB = new Map<string, number>();
  wb.map(stem).forEach((w, i) => {
    if (!posB.has(w)) posB.set(w, i);
  });
  for (let i = 0; i < seqA.length; i++) {
    for (let j = i + 1; j < seqA.length; j++) {
      const x = seqA[i] as string;
      const y = seqA[j] as string;
      if ((posB.get(x) ?? 0) > (posB.get(y) ?? 0)) return `${x}<>${y}`;
    }
  }
  return undefined;
}

function setDiff(a: Set<string>, b: Set<string>): string | undefined {
  for (const x of a) if (!b.has(x)) return x;
  for (const x of b) if (!a.has(x)) return x;
  return undefined;
}

interface Numbers {
  /** Written with digits: exact quantities, always compared. */
  digits: Set<string>;
  /** Digits and number words' values together. */
  all: Set<string>;
  /** Values of number words only. */
  words: Set<string>;
}

function numbers(text: string, words: string[]): Numbers {
  const digits = new Set<string>();
  for (const m of text.matchAll(/\d+(?:[.,]\d+)*/g)) digits.add(m[0].replace(/,/g, ""));
  const fromWords = new Set<string>();
  for (const w of words) {
    const v = NUMBER_WORDS.get(w);
    if (v !== undefined) fromWords.add(v);
  }
  return { digits, all: new Set([...digits, ...fromWords]), words: fromWords };
}

/**
 * Digits must match exactly. A number word ("one", "first", "second", "thousand") is often not a
 * quantity ("one can", "in one go", "first, ..."): it conflicts only with a different number on the other side.
 */
function numberMismatch(a: Numbers, b: Numbers): string | undefined {
  for (const d of a.digits) if (!b.all.has(d)) return d;
  for (const d of b.digits) if (!a.all.has(d)) return d;
  if (b.all.size > 0) for (const w of a.words) if (!b.all.has(w)) return w;
  if (a.all.size > 0) for (const w of b.words) if (!a.all.has(w)) return w;
  return undefined;
}

function negationCount(words: string[]): number {
  let n = 0;
  words.forEach((w, i) => {
    // "not only X but also Y" and "whether X or not" negate nothing.
    if (w === "not" && (words[i + 1] === "only" || words[i - 1] === "or")) return;
    if (NEGATIONS.has(w.replace("’", "'")) || w.endsWith("n't")) n++;
  });
  return n;
}

function quoted(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(/["“”«»]([^"“”«»]{1,200})["“”«»]|(?:^|\s)'([^']{2,200})'(?=\s|[.,?!]|$)|`([^`]{1,200})`/g)) {
    const q = (m[1] ?? m[2] ?? m[3] ?? "").trim().toLowerCase();
    if (q) out.add(q);
  }
  return out;
}

/**
 * Text the word tokenizer cannot see: symbols ("#", "@", "^", "≈") and non-Latin scripts ("translate 睨んで").
 * Either changes what is asked while leaving the Latin words, and so the vectors, unchanged.
 */
function literals(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(/[#@%&*+=<>^~|\\{}[\]¿¡§°±×÷≈≠≤≥∞√∑π]|(?:(?![\p{Script=Latin}\p{Script=Common}\p{Script=Inherited}])\p{L})+/gu)) out.add(m[0]);
  return out;
}

/**
 * In a short question one extra "best"/"more" changes what is asked; in a long passage rewording moves
 * comparison words around ("more than 50k" / "over 50k", "faster access" / "access quickly"), so there only
 * two different comparisons conflict.
 */
function comparisonMismatch(ca: Set<string>, cb: Set<string>, long: boolean): string | undefined {
  const na = new Set([...ca].map((w) => COMPARISON_SYNONYM.get(w) ?? w));
  const nb = new Set([...cb].map((w) => COMPARISON_SYNONYM.get(w) ?? w));
  if (!long) return setDiff(na, nb);
  // Long: only when each side has a comparison the other lacks.
  const onlyA = [...na].filter((w) => !nb.has(w));
  const onlyB = [...nb].filter((w) => !na.has(w));
  return onlyA.length > 0 && onlyB.length > 0 ? `${onlyA[0]}/${onlyB[0]}` : undefined;
}

/** "over 50k" is "more than 50k". */
const COMPARISON_SYNONYM = new Map([
  ["over", "more"],
  ["above", "more"],
  ["under", "less"],
  ["below", "less"],
  ["fewer", "less"],
  ["versus", "vs"],
]);

/** Month and day names; "may" only when it is the month ("May 5", "in May"), not the modal verb. */
function dates(text: string, words: string[]): Set<string> {
  const out = pick(words, MONTHS);
  if (out.has("may") && !/(?:\d\s*May\b|\bMay\s*\d|\b(?:in|of|since|until|from|by) May\b)/.test(text)) out.delete("may");
  return out;
}

function pick(words: string[], vocab: Set<string>): Set<string> {
  return new Set(words.filter((w) => vocab.has(w)));
}

/** Capitalised tokens not at a sentence start, plus all-caps/mixed tokens anywhere (acronyms, CamelCase). */
function entities(text: string): Set<string> {
  const out = new Set<string>();
  const re = /[\p{L}\p{N}][\p{L}\p{N}'’.-]*/gu;
  let sentenceStart = true;
  let last = 0;
  const letters = text.replace(/[^\p{L}]/gu, "");
  const shouting = letters.length > 0 && letters.replace(/[^\p{Lu}]/gu, "").length / letters.length > 0.5;
  for (const m of text.matchAll(re)) {
    const between = text.slice(last, m.index);
    // Tokens may swallow their trailing period ("version. Click"), so look at the previous token's end too.
    const prevEnd = text.slice(Math.max(0, last - 1), last);
    if (/[.?!:;\n]\s*$/.test(between) || /["(`]\s*$/.test(between) || (last > 0 && /[.?!]/.test(prevEnd) && /^\s+$/.test(between))) sentenceStart = true;
    last = (m.index ?? 0) + m[0].length;
    const tok = m[0].replace(/[.'’-]+$/, "");
    const lower = tok.toLowerCase();
    const first = tok[0] ?? "";
    const isCap = first !== first.toLowerCase();
    const inner = tok.slice(1);
    const isAcronymOrCamel = inner !== inner.toLowerCase();
    if ((isCap && !sentenceStart) || isAcronymOrCamel) {
      // An acronym that spells a stopword ("IT job", "US visa") is still a name, unless the whole text shouts.
      const acronym = tok.length >= 2 && tok === tok.toUpperCase() && !shouting;
      if (!CAP_NOISE.has(lower) && (!STOPWORDS.has(lower) || acronym)) out.add(lower);
    }
    sentenceStart = false;
  }
  return out;
}

/**
 * An entity named on one side must at least appear as words on the other (casing is unreliable in user
 * text; "Dataset.save_to_disk" is the words dataset, save, to, disk).
 */
function entityMismatch(ea: Set<string>, wordsB: Set<string>, eb: Set<string>, wordsA: Set<string>): string | undefined {
  const covered = (e: string, words: Set<string>, ents: Set<string>): boolean =>
    words.has(e) || ents.has(e) || wordTokens(e).every((t) => words.has(t));
  for (const e of ea) if (!covered(e, wordsB, eb)) return e;
  for (const e of eb) if (!covered(e, wordsA, ea)) return e;
  return undefined;
}

export type GuardOptions = Partial<Record<GuardCheck, boolean>> & {
  /**
   * Structural checks (question, person, specificity, swap, order) only apply when the longer side has at
   * most this many content words: in a short question one changed slot is the question; in a long
   * passage a reordered clause or a synonym is ordinary rewording.
   */
  structuralMaxWords?: number;
};

const STRUCTURAL: ReadonlySet<GuardCheck> = new Set(["question", "person", "specificity", "swap", "order"]);

/** Content words (stemmed, no stopwords/filler/numbers): the length measure used for strictness. */
export function contentWordCount(text: string): number {
  return contentSet(wordTokens(text)).size;
}

export function precisionGuard(a: string, b: string, options: GuardOptions = {}): GuardVerdict {
  const wa0 = wordTokens(a);
  const wb0 = wordTokens(b);
  const long = Math.max(contentSet(wa0).size, contentSet(wb0).size) > (options.structuralMaxWords ?? Number.POSITIVE_INFINITY);
  const on = (c: GuardCheck): boolean => options[c] !== false && !(long && STRUCTURAL.has(c));
  const wa = wa0;
  const wb = wb0;
  const d1 = on("numbers") ? numberMismatch(numbers(a, wa), numbers(b, wb)) : undefined;
  if (d1 !== undefined) return { ok: false, check: "numbers", detail: d1 };
  const na = negationCount(wa);
  const nb = negationCount(wb);
  // Presence, not parity: "No, it doesn't exist" carries one negation in meaning, not two.
  if (on("negation") && Math.min(na, 1) !== Math.min(nb, 1)) return { ok: false, check: "negation", detail: `${na}/${nb}` };
  const d3 = on("quoted") ? setDiff(quoted(a), quoted(b)) : undefined;
  if (d3 !== undefined) return { ok: false, check: "quoted", detail: d3 };
  const dl = on("literal") ? setDiff(literals(a), literals(b)) : undefined;
  if (dl !== undefined) return { ok: false, check: "literal", detail: dl };
  const d4 = on("dates") ? setDiff(dates(a, wa), dates(b, wb)) : undefined;
  if (d4 !== undefined) return { ok: false, check: "dates", detail: d4 };
  const d5 = on("units") ? setDiff(pick(wa, UNITS), pick(wb, UNITS)) : undefined;
  if (d5 !== undefined) return { ok: false, check: "units", detail: d5 };
  const d6 = on("comparison") ? comparisonMismatch(pick(wa, COMPARISON), pick(wb, COMPARISON), long) : undefined;
  if (d6 !== undefined) return { ok: false, check: "comparison", detail: d6 };
  const d7 = !on("entities") ? undefined : entityMismatch(entities(a), new Set(wb), entities(b), new Set(wa));
  if (d7 !== undefined) return { ok: false, check: "entities", detail: d7 };
  const asked = isQuestion(a, wa) || isQuestion(b, wb);
  if (on("question") && asked) {
    const qa = questionShape(wa);
    const qb = questionShape(wb);
    if (qa !== qb) return { ok: false, check: "question", detail: `${qa}/${qb}` };
  }
  if (on("person") && asked) {
    const pa = wa.some((w) => SECOND_PERSON.has(w));
    const pb = wb.some((w) => SECOND_PERSON.has(w));
    if (pa !== pb) return { ok: false, check: "person", detail: "you" };
  }
  const ca = contentSet(wa);
  const cb = contentSet(wb);
  if (on("specificity")) {
    const gap = specificityGap(ca, cb);
    if (gap !== undefined) return { ok: false, check: "specificity", detail: gap };
  }
  if (on("swap")) {
    const onlyA = unmatched(ca, cb);
    const onlyB = unmatched(cb, ca);
    // One slot swapped in an otherwise identical question ("career in economics" / "in chemistry").
    if (onlyA.length > 0 && onlyB.length > 0 && onlyA.length <= SWAP_MAX && onlyB.length <= SWAP_MAX) {
      return { ok: false, check: "swap", detail: `${onlyA.join(" ")}/${onlyB.join(" ")}` };
    }
  }
  // Only a pure permutation of the same content words is a reversed relation ("benzene into toluene");
  // once other words change too, a moved clause is ordinary rewording ("A mentions B" / "B is mentioned in A").
  if (on("order") && unmatched(ca, cb).length === 0 && unmatched(cb, ca).length === 0) {
    const inv = orderInversion(wa, wb, ca, cb);
    if (inv !== undefined) return { ok: false, check: "order", detail: inv };
  }
  return { ok: true };
}
