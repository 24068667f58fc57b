/**
 * A byte-pair encoder over tiktoken rank files (the `js-tiktoken/ranks/*` modules), with the same output as
 * js-tiktoken's `Tiktoken.encode(text)` / `decode(tokens)` at their defaults, in a few MB instead of ~100 MB:
 * js-tiktoken keeps one `Map<"104,101,108", rank>` entry and one Uint8Array per token (200k of each for
 * o200k); here every token's bytes live in one Uint8Array, found through an open-addressing hash table of
 * Int32s, so the encoder is five typed arrays.
 */

/** The shape of a `js-tiktoken/ranks/<name>` default export. */
export interface BpeRanks {
  pat_str: string;
  special_tokens: Record<string, number>;
  /** Lines of "<name> <first rank> <base64 token> <base64 token> ...", ranks consecutive from the first. */
  bpe_ranks: string;
}

/** What callers need from a tokenizer (js-tiktoken's Tiktoken has the same two methods). */
export interface TokenEncoder {
  encode(text: string): number[];
  decode(tokens: readonly number[]): string;
}

const B64 = new Int8Array(128).fill(-1);
for (const [i, c] of [..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"].entries()) B64[c.charCodeAt(0)] = i;

/** FNV-1a over bytes[from, to). */
function hashBytes(bytes: Uint8Array, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ (bytes[i] as number), 0x01000193);
  return h >>> 0;
}

function escapeRegex(s: string): string {
  return s.replace(/[\\^$*+?.()|[\]{}]/g, "\\$&");
}

/** Pieces up to this many bytes merge by scanning (fastest when short); longer ones through a heap. */
const SHORT_PIECE = 64;
/** Longer pieces are merged in chunks of this many bytes (bounded memory; tokens may differ at the cuts). */
const MAX_PIECE_BYTES = 8192;
/** Heap keys are rank * START_SPAN + start offset; offsets stay below MAX_PIECE_BYTES. */
const START_SPAN = 16_384;
/** The scratch buffer for a piece's UTF-8 bytes is kept only up to this size. */
const SCRATCH_MAX = 64 * 1024;

/** A binary min-heap of (key, version) pairs in typed arrays, sized for the merges of one piece. */
class MinHeap {
  private readonly keys: Float64Array;
  private readonly versions: Int32Array;
  size = 0;

  constructor(capacity: number) {
    this.keys = new Float64Array(capacity);
    this.versions = new Int32Array(capacity);
  }

  push(key: number, version: number): void {
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pk = this.keys[parent] as number;
      if (pk <= key) break;
      this.keys[i] = pk;
      this.versions[i] = this.versions[parent] as number;
      i = parent;
    }
    this.keys[i] = key;
    this.versions[i] = version;
  }

  topKey(): number {
    return this.keys[0] as number;
  }

  topVersion(): number {
    return this.versions[0] as number;
  }

  pop(): void {
    const n = --this.size;
    if (n === 0) return;
    const key = this.keys[n] as number;
    const version = this.versions[n] as number;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && (this.keys[c + 1] as number) < (this.keys[c] as number)) c++;
      if ((this.keys[c] as number) >= key) break;
      this.keys[i] = this.keys[c] as number;
      this.versions[i] = this.versions[c] as number;
      i = c;
    }
    this.keys[i] = key;
    this.versions[i] = version;
  }
}

export class CompactBpe implements TokenEncoder {
  /** Every token's bytes, entry after entry. */
  private readonly bytes: Uint8Array;
  /** Entry e's bytes are bytes[start[e], start[e + 1]). */
  private readonly start: Uint32Array;
  private readonly rankOf: Int32Array;
  /** rank -> entry, -1 when no token has that rank. */
  private readonly entryOf: Int32Array;
  /** Open addressing, linear probing: entry + 1, 0 = empty. */
  private readonly slots: Int32Array;
  private readonly mask: number;
  private readonly pattern: RegExp;
  private readonly specialPattern: RegExp | undefined;
  private readonly specialBytes = new Map<number, Uint8Array>();
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder("utf-8");
  private scratch = new Uint8Array(1024);

  constructor(ranks: BpeRanks) {
    this.pattern = new RegExp(ranks.pat_str, "ug");
    const specials = Object.keys(ranks.special_tokens);
    this.specialPattern = specials.length > 0 ? new RegExp(specials.map(escapeRegex).join("|"), "g") : undefined;
    for (const [text, rank] of Object.entries(ranks.special_tokens)) this.specialBytes.set(rank, this.encoder.encode(text));

    // One pass over the rank text: decode each base64 token into `bytes`, note its rank.
    const src = ranks.bpe_ranks;
    const bytes = new Uint8Array(Math.ceil((src.length * 3) / 4));
    const starts: number[] = [0];
    const rankList: number[] = [];
    let used = 0;
    let maxRank = -1;
    for (let lineStart = 0; lineStart < src.length; ) {
      let lineEnd = src.indexOf("\n", lineStart);
      if (lineEnd < 0) lineEnd = src.length;
      // "<name> <offset> tok tok ...": skip the name, read the offset.
      let i = src.indexOf(" ", lineStart);
      if (i < 0 || i >= lineEnd) {
        lineStart = lineEnd + 1;
        continue;
      }
      i++;
      let rank = 0;
      for (let c = src.charCodeAt(i); c >= 0x30 && c <= 0x39 && i < lineEnd; c = src.charCodeAt(++i)) rank = rank * 10 + (c - 0x30);
      while (i < lineEnd) {
        while (i < lineEnd && src.charCodeAt(i) === 0x20) i++;
        if (i >= lineEnd) break;
        let acc = 0;
        let bits = 0;
        for (; i < lineEnd; i++) {
          const c = src.charCodeAt(i);
          if (c === 0x20) break;
          if (c === 0x3d) continue; // '=' padding
          const v = c < 128 ? (B64[c] as number) : -1;
          if (v < 0) throw new Error(`bpe ranks: bad base64 character at ${i}`);
          acc = ((acc << 6) | v) & 0xffffff;
          bits += 6;
          if (bits >= 8) {
            bits -= 8;
            bytes[used++] = (acc >> bits) & 0xff;
          }
        }
        starts.push(used);
        rankList.push(rank);
        if (rank > maxRank) maxRank = rank;
        rank++;
      }
      lineStart = lineEnd + 1;
    }
    this.bytes = bytes.slice(0, used);
    this.start = Uint32Array.from(starts);
    const n = rankList.length;
    this.rankOf = Int32Array.from(rankList);
    this.entryOf = new Int32Array(maxRank + 1).fill(-1);
    let size = 1;
    while (size < n * 2) size <<= 1;
    this.slots = new Int32Array(size);
    this.mask = size - 1;
    for (let e = 0; e < n; e++) {
      this.entryOf[this.rankOf[e] as number] = e;
      const from = this.start[e] as number;
      const to = this.start[e + 1] as number;
      const found = this.find(this.bytes, from, to);
      if (found >= 0) {
        // The same bytes twice: the later rank wins, as in js-tiktoken's rank map.
        this.rankOf[found] = this.rankOf[e] as number;
        continue;
      }
      let s = hashBytes(this.bytes, from, to) & this.mask;
      while ((this.slots[s] as number) !== 0) s = (s + 1) & this.mask;
      this.slots[s] = e + 1;
    }
  }

  /** Number of tokens (not counting special tokens). */
  get size(): number {
    return this.rankOf.length;
  }

  /** Entry whose bytes equal buf[from, to), or -1. */
  private find(buf: Uint8Array, from: number, to: number): number {
    const len = to - from;
    let s = hashBytes(buf, from, to) & this.mask;
    for (;;) {
      const e = (this.slots[s] as number) - 1;
      if (e < 0) return -1;
      const a = this.start[e] as number;
      if ((this.start[e + 1] as number) - a === len) {
        let k = 0;
        while (k < len && this.bytes[a + k] === buf[from + k]) k++;
        if (k === len) return e;
      }
      s = (s + 1) & this.mask;
    }
  }

  /** Rank of the token whose bytes are buf[from, to), or -1. */
  private rank(buf: Uint8Array, from: number, to: number): number {
    const e = this.find(buf, from, to);
    return e < 0 ? -1 : (this.rankOf[e] as number);
  }

  /** js-tiktoken's encode(text) with its defaults: special tokens in the text are an error. */
  encode(text: string): number[] {
    if (this.specialPattern) {
      this.specialPattern.lastIndex = 0;
      const special = this.specialPattern.exec(text);
      if (special) throw new Error(`The text contains a special token that is not allowed: ${special[0]}`);
    }
    return this.encodeOrdinary(text);
  }

  /** tiktoken's encode_ordinary: special tokens' text ("<|endoftext|>") is encoded as ordinary text. */
  encodeOrdinary(text: string): number[] {
    const out: number[] = [];
    for (const match of text.matchAll(this.pattern)) {
      const piece = match[0];
      // A huge piece (a run of one character class) gets a buffer of its own, not a scratch kept for life.
      let buf: Uint8Array;
      let len: number;
      if (piece.length * 3 <= SCRATCH_MAX) {
        if (this.scratch.length < piece.length * 3) this.scratch = new Uint8Array(piece.length * 3);
        buf = this.scratch;
        len = this.encoder.encodeInto(piece, buf).written;
      } else {
        buf = this.encoder.encode(piece);
        len = buf.length;
      }
      const whole = this.rank(buf, 0, len);
      if (whole >= 0) out.push(whole);
      else if (len <= MAX_PIECE_BYTES) this.mergeInto(buf, len, out);
      else {
        // Past MAX_PIECE_BYTES a piece (a run of one character class) is merged chunk by chunk, cut at a
        // character boundary: its tokens may differ from tiktoken's at the cuts, time and memory stay bounded.
        for (let from = 0; from < len; ) {
          let to = Math.min(len, from + MAX_PIECE_BYTES);
          while (to < len && to > from + 1 && ((buf[to] as number) & 0xc0) === 0x80) to--;
          const chunk = buf.subarray(from, to);
          const r = this.rank(chunk, 0, chunk.length);
          if (r >= 0) out.push(r);
          else this.mergeInto(chunk, chunk.length, out);
          from = to;
        }
      }
    }
    return out;
  }

  private mergeInto(buf: Uint8Array, len: number, out: number[]): void {
    if (len <= SHORT_PIECE) this.mergeShort(buf, len, out);
    else this.mergeLong(buf, len, out);
  }

  /**
   * Byte-pair merge of buf[0, len): repeatedly merge the adjacent pair of parts with the lowest rank (the
   * leftmost on ties), as js-tiktoken does, keeping each pair's rank instead of recomputing them all.
   * A scan per merge (quadratic), the fastest for the short pieces of ordinary text.
   */
  private mergeShort(buf: Uint8Array, len: number, out: number[]): void {
    // bounds[i] = start of part i; bounds[parts] = len. pair[i] = rank of parts i and i+1 merged.
    const bounds: number[] = [];
    for (let i = 0; i <= len; i++) bounds.push(i);
    const pair: number[] = [];
    for (let i = 0; i + 1 < len; i++) pair.push(this.rank(buf, i, i + 2));
    while (pair.length > 0) {
      let best = -1;
      let bestRank = 0;
      for (let i = 0; i < pair.length; i++) {
        const r = pair[i] as number;
        if (r >= 0 && (best < 0 || r < bestRank)) {
          best = i;
          bestRank = r;
        }
      }
      if (best < 0) break;
      bounds.splice(best + 1, 1);
      pair.splice(best, 1);
      // Parts best-1..best and best..best+1 changed.
      if (best > 0) pair[best - 1] = this.rank(buf, bounds[best - 1] as number, bounds[best + 1] as number);
      if (best < pair.length) pair[best] = this.rank(buf, bounds[best] as number, bounds[best + 2] as number);
    }
    for (let i = 0; i + 1 < bounds.length; i++) {
      const r = this.rank(buf, bounds[i] as number, bounds[i + 1] as number);
      if (r >= 0) out.push(r);
    }
  }

  /**
   * The same merges in O(n log n), for long pieces: parts form a linked list over byte offsets and the
   * candidate pairs sit in a min-heap keyed by (rank, start), so a pop is the lowest rank and, on ties, the
   * leftmost, as in mergeShort; a pair whose parts changed since it was pushed is skipped when popped.
   */
  private mergeLong(buf: Uint8Array, len: number, out: number[]): void {
    // next[i]: start of the part after the one starting at i (len for the last); prev[i] likewise back.
    const next = new Int32Array(len);
    const prev = new Int32Array(len);
    // Version of the pair (i, next[i]); -1 once the part at i has been merged into its left neighbour.
    const ver = new Int32Array(len);
    for (let i = 0; i < len; i++) {
      next[i] = i + 1;
      prev[i] = i - 1;
    }
    const heap = new MinHeap(3 * len);
    const push = (i: number): void => {
      const j = next[i] as number;
      if (j >= len) return;
      const r = this.rank(buf, i, next[j] as number);
      if (r >= 0) heap.push(r * START_SPAN + i, ver[i] as number);
    };
    for (let i = 0; i + 1 < len; i++) push(i);
    while (heap.size > 0) {
      const key = heap.topKey();
      const v = heap.topVersion();
      heap.pop();
      const i = key % START_SPAN;
      if (ver[i] !== v) continue;
      const j = next[i] as number;
      const k = next[j] as number;
      next[i] = k;
      if (k < len) prev[k] = i;
      ver[j] = -1;
      ver[i] = (ver[i] as number) + 1;
      push(i);
      const p = prev[i] as number;
      if (p >= 0) {
        ver[p] = (ver[p] as number) + 1;
        push(p);
      }
    }
    for (let i = 0; i < len; i = next[i] as number) {
      const r = this.rank(buf, i, next[i] as number);
      if (r >= 0) out.push(r);
    }
  }

  /** js-tiktoken's decode: the tokens' bytes as UTF-8 (invalid sequences become U+FFFD); unknown ids are skipped. */
  decode(tokens: readonly number[]): string {
    const parts: Uint8Array[] = [];
    let length = 0;
    for (const t of tokens) {
      const e = t >= 0 && t < this.entryOf.length ? (this.entryOf[t] as number) : -1;
      const b = e >= 0 ? this.bytes.subarray(this.start[e] as number, this.start[e + 1] as number) : this.specialBytes.get(t);
      if (b) {
        parts.push(b);
        length += b.length;
      }
    }
    const merged = new Uint8Array(length);
    let at = 0;
    for (const b of parts) {
      merged.set(b, at);
      at += b.length;
    }
    return this.decoder.decode(merged);
  }
}
