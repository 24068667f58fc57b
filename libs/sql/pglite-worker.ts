// The PGlite worker thread's program and its messages. PGlite runs PostgreSQL synchronously on the thread
// that calls it (~15% of the embedded gateway's main-thread time went to it); in a worker the main thread
// only posts messages. The program is plain JavaScript run with `eval` that imports only PGlite, so it
// runs the same under tsx, vitest and the esbuild bundles (which hold no separate worker file to find).
// It is the only place that runs statements on the embedded PGlite: prepared statements, transactions,
// and CHECKPOINT on WAL volume (pglite-checkpoint.ts says why). Its prepared statements drive PGlite's
// public execProtocol inside its non-public _runExclusive* locks: a PGlite upgrade must keep
// pglite-worker-client.test.ts green. Opening is prepared on the main thread (pglite-worker-client.ts):
// initdb of a new directory, and the in-memory template, are made by a child process there.

/** What the worker is started with (its workerData). */
export interface PgliteWorkerData {
  /** The @electric-sql/pglite entry, as a file URL (resolved by the main thread). */
  pglite: string;
  /** Data directory, or undefined for an in-memory database. */
  dir: string | undefined;
  /** For an in-memory database: the template file to load (pglite-template.ts), if there is one. */
  template: string | undefined;
  /** Appended to PGlite.defaultStartParams (the profile's, pglite-settings.ts). */
  extraStartParams: string[];
  /** initdb's arguments when the worker itself must make the database (no directory yet, no template). */
  initdbParams: string[];
  checkpoint: { sql: string; walBytes: number; intervalMs: number };
}

/** Main thread → worker. `tx` runs the statement inside that open transaction. */
export type PgliteRequest =
  | { id: number; op: "query"; sql: string; params: unknown[] | undefined; prepare: string | undefined; tx: number | undefined }
  | { id: number; op: "exec"; sql: string } // several statements (migration files); answers the last one's rows
  | { id: number; op: "begin" } // answers { tx }
  | { id: number; op: "end"; tx: number; commit: boolean }
  | { id: number; op: "close" };

/** An error's message and its primitive fields (PostgreSQL's code, detail, constraint...). */
export interface WorkerError {
  message: string;
  fields: Record<string, string | number | boolean>;
}

/** Worker → main thread: the answer to a request... */
export type PgliteAnswer = { id: number; rows: unknown[] } | { id: number; tx: number } | { id: number; error: WorkerError };

/** ...or news of the opening. */
export type PgliteEvent =
  | { event: "ready" }
  | { event: "templateFailed" } // the template did not load: the main thread discards it
  | { event: "failed"; error: WorkerError }; // opening failed

export type PgliteReply = PgliteAnswer | PgliteEvent;

export const PGLITE_WORKER_SCRIPT = String.raw`
(async () => {
const { parentPort, workerData } = await import("node:worker_threads");
const { readFileSync } = await import("node:fs");
const { PGlite, messages: msg, protocol } = await import(workerData.pglite);
const ser = protocol.serialize;
const post = (m) => parentPort.postMessage(m);

function toWire(e) {
  const fields = {};
  if (e && typeof e === "object") {
    for (const [k, v] of Object.entries(e)) {
      if (k !== "name" && k !== "length" && (typeof v === "string" || typeof v === "number" || typeof v === "boolean")) fields[k] = v;
    }
  }
  return { message: e instanceof Error ? e.message : String(e), fields };
}

async function open() {
  const { dir, template } = workerData;
  const startParams = [...PGlite.defaultStartParams, ...workerData.extraStartParams];
  const initDbStartParams = workerData.initdbParams;
  if (dir !== undefined) return PGlite.create(dir, { startParams, initDbStartParams });
  if (template !== undefined) {
    try {
      return await PGlite.create({ startParams, loadDataDir: new Blob([readFileSync(template)]) });
    } catch {
      post({ event: "templateFailed" });
    }
  }
  return PGlite.create({ startParams, initDbStartParams });
}

let db;
try {
  db = await open();
} catch (e) {
  post({ event: "failed", error: toWire(e) });
  return;
}

// CHECKPOINT once a WAL segment's worth has accumulated (see pglite-checkpoint.ts).
let checking = false;
const { sql: walSql, walBytes, intervalMs } = workerData.checkpoint;
const timer = setInterval(() => {
  if (checking || db.closed) return;
  checking = true;
  (async () => {
    const behind = (await db.query(walSql)).rows[0]?.behind ?? 0;
    if (behind >= walBytes && !db.closed) await db.exec("CHECKPOINT");
  })()
    .catch(() => {}) // closing, or a failed check: the next tick tries again
    .finally(() => (checking = false));
}, intervalMs);
timer.unref();

// Named prepared statements, which PGlite's query() does not offer: query() parses, analyses and plans
// its statement on every call (2 ms for the ledger's batch insert in WASM, most of a small batch's cost).
// Parse + Describe once per name, then each call is only Bind + Execute + Sync, with parameters
// serialised and rows parsed as query() does.
const prepared = new Map();
function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
async function queryPrepared(name, text, params, inTx) {
  let stmt = prepared.get(name);
  if (stmt && stmt.text !== text) throw new Error('prepared statement "' + name + '" already holds another text');
  if (!stmt) {
    const { messages } = await db.execProtocol(concat([ser.parse({ name, text }), ser.describe({ type: "S", name }), ser.sync()]), { syncToFs: !inTx });
    const p = messages.find((m) => m instanceof msg.ParameterDescriptionMessage);
    const r = messages.find((m) => m instanceof msg.RowDescriptionMessage);
    stmt = { text, paramTypes: p ? p.dataTypeIDs : [], fields: r ? r.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })) : [] };
    prepared.set(name, stmt);
  }
  const values = params.map((v, i) => {
    if (v === null || v === undefined) return null;
    const serialize = db.serializers[stmt.paramTypes[i]];
    return serialize ? serialize(v) : String(v);
  });
  const { messages } = await db.execProtocol(concat([ser.bind({ statement: name, values }), ser.execute({}), ser.sync()]), { syncToFs: !inTx });
  const rows = [];
  for (const m of messages) {
    if (!(m instanceof msg.DataRowMessage)) continue;
    const row = {};
    m.fields.forEach((v, i) => {
      const f = stmt.fields[i];
      const parse = db.parsers[f.dataTypeID];
      row[f.name] = v === null ? null : parse ? parse(v, f.dataTypeID) : v;
    });
    rows.push(row);
  }
  return rows;
}

// Open transactions by id: each holds PGlite's transaction lock until its "end" arrives.
const txs = new Map();
let nextTx = 1;

async function query(r) {
  const t = r.tx === undefined ? undefined : txs.get(r.tx);
  if (r.tx !== undefined && !t) throw new Error("transaction " + r.tx + " is not open");
  if (r.prepare === undefined) return (await (t ? t.handle : db).query(r.sql, r.params)).rows;
  // The locks PGlite's query() takes: a transaction's own statements only wait for the query lock.
  const run = () => db._runExclusiveQuery(() => queryPrepared(r.prepare, r.sql, r.params ?? [], t !== undefined));
  return t ? run() : db._runExclusiveTransaction(run);
}

const settling = new Map(); // tx id -> { end, done }: its "end" and the promise of its commit or rollback

// Opens a transaction: answers { tx } once it holds the lock; "end" commits or rolls it back.
function begin(id) {
  const tx = nextTx++;
  let end;
  const ended = new Promise((resolve) => (end = resolve));
  let begun = false;
  const done = db.transaction(async (handle) => {
    txs.set(tx, { handle });
    begun = true;
    post({ id, tx });
    const commit = await ended;
    txs.delete(tx);
    if (!commit) await handle.rollback();
  });
  done.catch((e) => {
    if (!begun) post({ id, error: toWire(e) });
  });
  settling.set(tx, { end: (commit) => end(commit), done });
}

parentPort.on("message", (r) => {
  switch (r.op) {
    case "query":
      query(r).then((rows) => post({ id: r.id, rows }), (e) => post({ id: r.id, error: toWire(e) }));
      return;
    case "exec":
      db.exec(r.sql).then((results) => post({ id: r.id, rows: results.length ? results[results.length - 1].rows : [] }), (e) => post({ id: r.id, error: toWire(e) }));
      return;
    case "begin":
      begin(r.id);
      return;
    case "end": {
      const s = settling.get(r.tx);
      settling.delete(r.tx);
      if (!s) return post({ id: r.id, error: toWire(new Error("transaction " + r.tx + " is not open")) });
      s.end(r.commit);
      s.done.then(() => post({ id: r.id, rows: [] }), (e) => post({ id: r.id, error: toWire(e) }));
      return;
    }
    case "close":
      clearInterval(timer);
      db.close().then(() => post({ id: r.id, rows: [] }), (e) => post({ id: r.id, error: toWire(e) })).finally(() => parentPort.close());
      return;
  }
});
post({ event: "ready" });
})();
`;
