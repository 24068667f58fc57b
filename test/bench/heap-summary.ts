// Summarizes a V8 heap snapshot (node:v8 writeHeapSnapshot) by what holds the memory: self sizes summed
// per constructor for objects, per kind for strings, code, arrays and native data (array buffer contents).
import { readFileSync } from "node:fs";

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export interface HeapRow {
  what: string;
  count: number;
  self_mb: number;
}

/** The `top` largest groups by total self size. */
export function summarizeHeapSnapshot(file: string, top = 20): HeapRow[] {
  const snap = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const groups = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt] as number] ?? "?";
    const name = snap.strings[snap.nodes[i + nameAt] as number] ?? "?";
    const size = snap.nodes[i + sizeAt] as number;
    let key: string;
    if (type === "object" || type === "native" || type === "closure") key = `${type} ${name.length > 60 ? `${name.slice(0, 57)}...` : name}`;
    else if (type === "string" || type === "concatenated string" || type === "sliced string") key = "(strings)";
    else key = `(${type})`;
    const g = groups.get(key) ?? { count: 0, bytes: 0 };
    g.count++;
    g.bytes += size;
    groups.set(key, g);
  }
  return [...groups]
    .sort((a, b) => b[1].bytes - a[1].bytes)
    .slice(0, top)
    .map(([what, g]) => ({ what, count: g.count, self_mb: Math.round((g.bytes / 2 ** 20) * 10) / 10 }));
}
