// Named prepared statements on PGlite, which its query() does not offer: query() parses, analyses and
// plans its statement again on every call (2 ms for the ledger's batch insert in WASM, most of a small
// batch's cost). Here a statement is parsed once per database under a name (Parse + Describe), then each
// call is only Bind + Execute + Sync, with parameters serialised and rows parsed as query() does.
import { messages as msg, protocol, type PGlite } from "@electric-sql/pglite";

interface Prepared {
  text: string;
  paramTypes: number[];
  fields: Array<{ name: string; dataTypeID: number }>;
}

const preparedByDb = new WeakMap<PGlite, Map<string, Prepared>>();

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

async function prepare(db: PGlite, name: string, text: string, inTransaction: boolean): Promise<Prepared> {
  const ser = protocol.serialize;
  const { messages } = await db.execProtocol(concat([ser.parse({ name, text }), ser.describe({ type: "S", name }), ser.sync()]), { syncToFs: !inTransaction });
  const params = messages.find((m) => m instanceof msg.ParameterDescriptionMessage);
  const rows = messages.find((m) => m instanceof msg.RowDescriptionMessage);
  return { text, paramTypes: params?.dataTypeIDs ?? [], fields: rows?.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })) ?? [] };
}

/**
 * Runs `text` as the prepared statement `name` of `db` (prepared on first use). Call it inside PGlite's
 * query lock (and its transaction lock unless inside a transaction): it drives the wire protocol directly.
 */
export async function queryPrepared<T>(db: PGlite, name: string, text: string, params: readonly unknown[], inTransaction: boolean): Promise<T[]> {
  let byName = preparedByDb.get(db);
  if (!byName) preparedByDb.set(db, (byName = new Map()));
  let stmt = byName.get(name);
  if (stmt && stmt.text !== text) throw new Error(`prepared statement "${name}" already holds another text`);
  if (!stmt) {
    stmt = await prepare(db, name, text, inTransaction);
    byName.set(name, stmt);
  }
  const { paramTypes, fields } = stmt;
  const values = params.map((v, i) => {
    if (v === null || v === undefined) return null;
    const serialize = db.serializers[paramTypes[i]!];
    return serialize ? (serialize(v) as string) : String(v);
  });
  const ser = protocol.serialize;
  const { messages } = await db.execProtocol(concat([ser.bind({ statement: name, values }), ser.execute({}), ser.sync()]), { syncToFs: !inTransaction });
  const rows: T[] = [];
  for (const m of messages) {
    if (!(m instanceof msg.DataRowMessage)) continue;
    const row: Record<string, unknown> = {};
    m.fields.forEach((v, i) => {
      const f = fields[i]!;
      const parse = db.parsers[f.dataTypeID];
      row[f.name] = v === null ? null : parse ? parse(v, f.dataTypeID) : v;
    });
    rows.push(row as T);
  }
  return rows;
}
