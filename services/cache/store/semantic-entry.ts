// One semantic entry as it is persisted (Redis) and carried between replicas (JetStream): everything a
// replica needs to put it in its own index without asking anyone: partition, meta (the answer is
// referenced by its exact-layer key, the meta id, and stays sealed in the exact store), the embedder
// that made the vector, and the vector itself.
import type { PurgeFilter } from "./exact-store.ts";
import type { VectorEntryMeta, VectorPartition } from "./vector-index.ts";

export interface SemanticEntry {
  partition: VectorPartition;
  meta: VectorEntryMeta;
  /** `name@version`: entries of another embedder are never loaded, let alone compared. */
  embedderId: string;
  vector: Float32Array;
}

/** Seals the entry's text (the user's question) at rest and on the wire when a master key is set. */
export interface TextSeal {
  seal(tenant: string, plaintext: string): string;
  open(tenant: string, sealed: string): string | undefined;
}

/** What a replica applies to its index; every replica applies the same events in stream order. */
export type IndexEvent =
  | { kind: "store"; entry: SemanticEntry }
  | { kind: "remove"; partition: VectorPartition; id: string }
  | { kind: "invalidate"; tenant: string; namespace?: string }
  | { kind: "purge"; tenant: string; filter: PurgeFilter };

interface Header {
  p: VectorPartition;
  m: VectorEntryMeta;
  e: string;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * `u32 header length | header JSON | vector as little-endian float32`. Binary for the vector: a
 * JSON array of 356 floats is ~3x the bytes and slower to parse at rebuild.
 */
export function encodeEntry(entry: SemanticEntry, seal?: TextSeal): Uint8Array {
  const meta = seal ? { ...entry.meta, text: seal.seal(entry.partition.tenant, entry.meta.text) } : entry.meta;
  const header = enc.encode(JSON.stringify({ p: entry.partition, m: meta, e: entry.embedderId } satisfies Header));
  const out = new Uint8Array(4 + header.length + entry.vector.length * 4);
  const view = new DataView(out.buffer);
  view.setUint32(0, header.length, true);
  out.set(header, 4);
  const base = 4 + header.length;
  for (let i = 0; i < entry.vector.length; i++) view.setFloat32(base + i * 4, entry.vector[i] as number, true);
  return out;
}

/** The entry, or undefined for bytes that are not one (corrupt, truncated, sealed under another key). */
export function decodeEntry(bytes: Uint8Array, seal?: TextSeal): SemanticEntry | undefined {
  try {
    if (bytes.length < 4) return undefined;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const len = view.getUint32(0, true);
    if (4 + len > bytes.length || (bytes.length - 4 - len) % 4 !== 0) return undefined;
    const h = JSON.parse(dec.decode(bytes.subarray(4, 4 + len))) as Partial<Header>;
    const p = h.p;
    const m = h.m;
    if (!p || !m || typeof h.e !== "string") return undefined;
    if (typeof p.tenant !== "string" || typeof p.namespace !== "string" || typeof p.key !== "string") return undefined;
    if (typeof m.id !== "string" || typeof m.text !== "string" || typeof m.createdAt !== "number" || typeof m.expiresAt !== "number") return undefined;
    const text = seal ? seal.open(p.tenant, m.text) : m.text;
    if (text === undefined) return undefined;
    const base = 4 + len;
    const dim = (bytes.length - base) / 4;
    const vector = new Float32Array(dim);
    for (let i = 0; i < dim; i++) vector[i] = view.getFloat32(base + i * 4, true);
    const meta: VectorEntryMeta = { id: m.id, text, createdAt: m.createdAt, expiresAt: m.expiresAt, ...(typeof m.model === "string" ? { model: m.model } : {}) };
    return { partition: { tenant: p.tenant, namespace: p.namespace, key: p.key }, meta, embedderId: h.e, vector };
  } catch {
    return undefined;
  }
}

const STORE = 1;
const OTHER = 2;

/** A store event is the entry's bytes behind one tag byte; the rest are small JSON. */
export function encodeEvent(ev: IndexEvent, seal?: TextSeal): Uint8Array {
  if (ev.kind === "store") {
    const body = encodeEntry(ev.entry, seal);
    const out = new Uint8Array(1 + body.length);
    out[0] = STORE;
    out.set(body, 1);
    return out;
  }
  const body = enc.encode(JSON.stringify(ev));
  const out = new Uint8Array(1 + body.length);
  out[0] = OTHER;
  out.set(body, 1);
  return out;
}

export function decodeEvent(bytes: Uint8Array, seal?: TextSeal): IndexEvent | undefined {
  if (bytes[0] === STORE) {
    const entry = decodeEntry(bytes.subarray(1), seal);
    return entry ? { kind: "store", entry } : undefined;
  }
  if (bytes[0] !== OTHER) return undefined;
  try {
    const v = JSON.parse(dec.decode(bytes.subarray(1))) as Partial<IndexEvent> & Record<string, unknown>;
    if (v.kind === "remove" && v.partition && typeof v.id === "string") return { kind: "remove", partition: v.partition, id: v.id };
    if (v.kind === "invalidate" && typeof v.tenant === "string") return { kind: "invalidate", tenant: v.tenant, ...(typeof v.namespace === "string" ? { namespace: v.namespace } : {}) };
    if (v.kind === "purge" && typeof v.tenant === "string" && v.filter && typeof v.filter === "object") return { kind: "purge", tenant: v.tenant, filter: v.filter };
  } catch {
    // not an event of ours
  }
  return undefined;
}

/** Whether an entry's meta matches an invalidation by model and age (and namespace, checked by the caller). */
export function metaMatches(meta: VectorEntryMeta, filter: PurgeFilter): boolean {
  if (filter.model !== undefined && meta.model !== filter.model) return false;
  if (filter.createdBefore !== undefined && !(meta.createdAt < filter.createdBefore)) return false;
  return true;
}
