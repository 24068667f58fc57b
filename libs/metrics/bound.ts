// Labelled children bound once. prom-client's own children (`labels()`) still validate the label
// names and build the series' hash string on every observation; on the request path that showed up
// in profiles (string garbage, validation loops). A bound child computes the hash once and then
// updates the series prom-client keeps, exactly as prom-client's observe/inc would. The first
// observation of a series, and any after a reset or remove, go through prom-client's public call,
// which creates the series; a metric without the expected internal shape (another prom-client
// version, exemplars on) is served by prom-client's own path throughout. bound.test.ts checks the
// exposition is identical to prom-client's own.
import type { Counter, Histogram, LabelValues } from "prom-client";
import { LruMap } from "#libs/collections/lru-map.ts";

export interface BoundHistogram {
  observe(value: number): void;
}

export interface BoundCounter {
  inc(value?: number): void;
}

interface HistogramSeries {
  sum: number;
  count: number;
  bucketValues: Record<string, number>;
}

interface HistogramInternals {
  hashMap: Record<string, HistogramSeries | undefined>;
  upperBounds: readonly number[];
  sortedLabelNames: readonly string[];
  enableExemplars?: boolean;
}

interface CounterInternals {
  hashMap: Record<string, { value: number } | undefined>;
  sortedLabelNames: readonly string[];
  enableExemplars?: boolean;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null;
}

/** prom-client's series key (util.js hashObject with the metric's sorted label names). */
function seriesHash(sortedLabelNames: readonly string[], labels: Readonly<Record<string, string | number | undefined>>): string {
  let hash = "";
  for (const key of sortedLabelNames) {
    const value = labels[key];
    if (value !== undefined) hash += `${key}:${value},`;
  }
  return hash;
}

/** As prom-client refuses unknown label names on every call, a bound child refuses them once. */
function checkNames(names: readonly string[], labels: object): void {
  for (const k of Object.keys(labels)) if (!names.includes(k)) throw new Error(`Added label "${k}" is not included in initial labelset: ${names.join(", ")}`);
}

function histogramInternals(h: object): HistogramInternals | undefined {
  const i = h as Partial<Record<keyof HistogramInternals, unknown>>;
  if (i.enableExemplars === true || !isObject(i.hashMap) || !Array.isArray(i.upperBounds) || !Array.isArray(i.sortedLabelNames)) return undefined;
  return h as HistogramInternals;
}

function counterInternals(c: object): CounterInternals | undefined {
  const i = c as Partial<Record<keyof CounterInternals, unknown>>;
  if (i.enableExemplars === true || !isObject(i.hashMap) || !Array.isArray(i.sortedLabelNames)) return undefined;
  return c as CounterInternals;
}

export function bindHistogram<T extends string>(h: Histogram<T>, labels: LabelValues<T>): BoundHistogram {
  const internals = histogramInternals(h);
  if (!internals) {
    const child = h.labels(labels);
    return { observe: (v) => child.observe(v) };
  }
  const frozen: LabelValues<T> = { ...labels };
  checkNames(internals.sortedLabelNames, frozen);
  const hash = seriesHash(internals.sortedLabelNames, frozen);
  const bounds = internals.upperBounds;
  // The buckets' property names, as prom-client's `bucketValues[bound]` converts them on every call.
  const keys = bounds.map(String);
  return {
    observe(value) {
      const series = internals.hashMap[hash];
      // A new series (or one reset or removed since), or a value it refuses: prom-client's own path.
      if (series === undefined || !Number.isFinite(value)) return h.observe(frozen, value);
      series.sum += value;
      series.count += 1;
      for (let i = 0; i < bounds.length; i++) {
        if (value <= bounds[i]!) {
          const key = keys[i]!;
          const n = series.bucketValues[key];
          if (n !== undefined) series.bucketValues[key] = n + 1;
          break;
        }
      }
    },
  };
}

export function bindCounter<T extends string>(c: Counter<T>, labels: LabelValues<T>): BoundCounter {
  const internals = counterInternals(c);
  if (!internals) {
    const child = c.labels(labels);
    return { inc: (v) => child.inc(v) };
  }
  const frozen: LabelValues<T> = { ...labels };
  checkNames(internals.sortedLabelNames, frozen);
  const hash = seriesHash(internals.sortedLabelNames, frozen);
  return {
    inc(value = 1) {
      const series = internals.hashMap[hash];
      if (series === undefined || !Number.isFinite(value) || value < 0) return c.inc(frozen, value);
      series.value += value;
    },
  };
}

/**
 * Children by a key the caller builds from its label values. Bounded: label values that come from
 * requests (a client's model name) must not grow it without end; over the bound the least recently
 * made child is dropped, which only costs re-binding (the series themselves live in prom-client).
 */
export class ChildCache<V> {
  private readonly map: LruMap<string, V>;

  constructor(max = 1024) {
    this.map = new LruMap<string, V>({ max });
  }

  get(key: string): V | undefined {
    return this.map.peek(key);
  }

  /** Stores and returns `v` (callers: `cache.get(k) ?? cache.set(k, make())`, no closure per call). */
  set(key: string, v: V): V {
    this.map.set(key, v);
    return v;
  }
}
