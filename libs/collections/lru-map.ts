// A bounded map that evicts its least recently set (or touched) entry, in O(1) amortized.
//
// The hand-written pattern it replaces, `map.delete(k); map.set(k, v)` then `map.keys().next()` to find
// the oldest, degrades once the map is at its bound: V8 keeps deleted Map entries as holes until it
// rehashes, and iterating from the start skips every one of them, so each eviction cost O(holes)
// (21-69 µs at 100,000 entries instead of 0.3; issues #9 and #11). Here the recency order lives in a
// queue of (key, generation) pairs beside the Map, and the Map itself is never iterated.

interface Slot<V> {
  value: V;
  /** The generation of this key's one live pair in the queue. */
  gen: number;
}

export interface LruMapOptions<K, V> {
  /** Entries held at most (Infinity: unbounded, the order is still kept). */
  max: number;
  /** Called after an entry was evicted for being over `max` (not on delete or clear). */
  onEvict?: (key: K, value: V) => void;
}

/** Queue pairs kept at least before a compaction is considered: spares tiny maps from compacting often. */
const MIN_QUEUE = 64;

export class LruMap<K, V> implements Iterable<[K, V]> {
  readonly max: number;
  private readonly onEvict: ((key: K, value: V) => void) | undefined;
  private readonly map = new Map<K, Slot<V>>();
  // The queue, oldest first from `head`. Each live key has exactly one pair whose generation matches its
  // slot; a set, touch or delete leaves the older pair stale, skipped when it comes out. The arrays are
  // only ever appended to: compaction builds new ones, so an iterator keeps reading a consistent queue.
  private qKeys: K[] = [];
  private qGens: number[] = [];
  private head = 0;
  private gen = 0;

  constructor(options: LruMapOptions<K, V>) {
    this.max = options.max;
    this.onEvict = options.onEvict;
  }

  get size(): number {
    return this.map.size;
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  /** The value without changing its recency. */
  peek(key: K): V | undefined {
    return this.map.get(key)?.value;
  }

  /** The value, made the most recent. */
  get(key: K): V | undefined {
    const s = this.map.get(key);
    if (s === undefined) return undefined;
    this.push(key, s);
    return s.value;
  }

  /** Makes `key` the most recent; false when it is not held. */
  touch(key: K): boolean {
    const s = this.map.get(key);
    if (s === undefined) return false;
    this.push(key, s);
    return true;
  }

  /** Sets the value and makes it the most recent, then evicts the oldest entries over `max`. */
  set(key: K, value: V): this {
    let s = this.map.get(key);
    if (s === undefined) this.map.set(key, (s = { value, gen: 0 }));
    else s.value = value;
    this.push(key, s);
    if (this.map.size > this.max) this.evict();
    return this;
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
    this.qKeys = [];
    this.qGens = [];
    this.head = 0;
  }

  /** The least recent entry, not touched. */
  oldest(): [K, V] | undefined {
    for (let i = this.head; i < this.qKeys.length; i++) {
      const k = this.qKeys[i] as K;
      const s = this.map.get(k);
      if (s !== undefined && s.gen === this.qGens[i]) {
        this.head = i; // the stale pairs before it are dead for good
        return [k, s.value];
      }
    }
    return undefined;
  }

  /**
   * Entries oldest first. Deleting during iteration is safe; an entry set or touched during it is seen
   * again at its new place, except after a compaction (then entries set since are not visited).
   */
  *entries(): IterableIterator<[K, V]> {
    const keys = this.qKeys;
    const gens = this.qGens;
    for (let i = this.head; i < keys.length; i++) {
      const k = keys[i] as K;
      const s = this.map.get(k);
      if (s !== undefined && s.gen === gens[i]) yield [k, s.value];
    }
  }

  *keys(): IterableIterator<K> {
    for (const [k] of this.entries()) yield k;
  }

  *values(): IterableIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }

  /** Queue pairs held, live or stale (tests). */
  get queueLength(): number {
    return this.qKeys.length - this.head;
  }

  private push(key: K, s: Slot<V>): void {
    s.gen = ++this.gen;
    // Compacting at 2x the live size (plus a floor) keeps the queue O(size) and each compaction paid
    // for by the pushes and deletes since the last one.
    if (this.qKeys.length >= 2 * this.map.size + MIN_QUEUE) this.compact();
    this.qKeys.push(key);
    this.qGens.push(s.gen);
  }

  private evict(): void {
    while (this.map.size > this.max && this.head < this.qKeys.length) {
      const k = this.qKeys[this.head] as K;
      const g = this.qGens[this.head] as number;
      this.head++;
      const s = this.map.get(k);
      if (s === undefined || s.gen !== g) continue;
      this.map.delete(k);
      this.onEvict?.(k, s.value);
    }
  }

  /** Keeps the live pairs, in order, in new arrays (an iterator holds on to the old ones). */
  private compact(): void {
    const keys: K[] = [];
    const gens: number[] = [];
    for (let i = this.head; i < this.qKeys.length; i++) {
      const k = this.qKeys[i] as K;
      const g = this.qGens[i] as number;
      if (this.map.get(k)?.gen === g) {
        keys.push(k);
        gens.push(g);
      }
    }
    this.qKeys = keys;
    this.qGens = gens;
    this.head = 0;
  }
}
