// JSON carried in a bytes field (the executor's completion_json): in the mesh the reader parses what
// came over the wire; in one process the writer's bytes object reaches the reader as it is, so the
// reader can take the value the bytes were made from instead of decoding and parsing them again.
// Only for plain JSON data (what JSON.parse returns, or objects built the same way: no undefined, no
// toJSON, no shared parts), for which the value and its bytes parsed are the same thing.

/** Values by the bytes made from them; an entry lives as long as its bytes (weakly held). */
const made = new WeakMap<Uint8Array, unknown>();
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** `value` as JSON bytes. The writer hands `value` over with them: it must not change it afterwards. */
export function jsonBytes(value: unknown): Uint8Array {
  const bytes = encoder.encode(JSON.stringify(value));
  made.set(bytes, value);
  return bytes;
}

/** The value behind `bytes`: the one they were made from in this process (to the first reader only), else the bytes parsed. */
export function fromJsonBytes<T>(bytes: Uint8Array): T {
  const value = made.get(bytes);
  if (value === undefined) return JSON.parse(decoder.decode(bytes)) as T;
  // Taken once: a second reader gets its own copy, so no two readers share (and mutate) one object.
  made.delete(bytes);
  return value as T;
}
