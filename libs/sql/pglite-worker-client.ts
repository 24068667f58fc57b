// SqlClient over a PGlite running in a worker thread (pglite-worker.ts): the main thread posts each
// statement and awaits its answer by id, so PostgreSQL's WASM work no longer takes the event loop.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { MigrationClient } from "./migrate.ts";
import { CHECKPOINT_INTERVAL_MS, WAL_SINCE_CHECKPOINT } from "./pglite-checkpoint.ts";
import { initPgliteDirWith, keepWasmBaseline, PGLITE_DIR_PROFILE, PGLITE_MEMORY_PROFILE, WASM_BASELINE_FLAGS } from "./pglite-settings.ts";
import { discardTemplate, templateFile } from "./pglite-template.ts";
import { PGLITE_WORKER_SCRIPT, type PgliteAnswer as Answer, type PgliteReply, type PgliteRequest, type PgliteWorkerData, type WorkerError } from "./pglite-worker.ts";
import type { QueryOptions, SqlClient } from "./sql-client.ts";

export interface PgliteWorkerDb {
  sql: SqlClient;
  /** node-pg-migrate's dbClient: text without parameters runs as several statements (a migration file). */
  migrationClient: MigrationClient;
  /** Closes the database (flushing a directory) and ends the thread; pending and later calls reject. */
  close(): Promise<void>;
  /** The thread (for tests). */
  readonly worker: Worker;
}

export interface PgliteWorkerOptions {
  checkpointIntervalMs?: number;
  checkpointWalBytes?: number;
  /** More `-c name=value` start parameters (benchmarks comparing settings). */
  extraStartParams?: readonly string[];
}

type Request = PgliteRequest extends infer R ? (R extends { id: number } ? Omit<R, "id"> : never) : never;

/** The error the worker sent, re-created here: its message, and PostgreSQL's code, detail... as fields. */
function fromWire(e: WorkerError): Error {
  return Object.assign(new Error(e.message), e.fields);
}

/**
 * Starts PGlite in a worker thread: on disk in `dir`, or in memory when `dir` is undefined. The expensive
 * first steps (initdb of a new directory, the in-memory template) run in a child process first, as for
 * the in-thread openPglite (pglite-open.ts).
 */
export async function startPgliteWorker(dir: string | undefined, opts: PgliteWorkerOptions = {}): Promise<PgliteWorkerDb> {
  keepWasmBaseline(); // V8 flags are process-wide: the worker's WASM compiles under them too
  // PGlite's own JavaScript is loaded by the worker and by the child processes that make databases,
  // never on this thread: the profile's parameters are appended to PGlite's defaults where PGlite runs.
  const profile = dir === undefined ? PGLITE_MEMORY_PROFILE : PGLITE_DIR_PROFILE;
  let template: string | undefined;
  if (dir === undefined) {
    template = await templateFile(profile, WASM_BASELINE_FLAGS);
  } else if (!existsSync(join(dir, "PG_VERSION"))) {
    await initPgliteDirWith(dir, profile.startParams).catch(() => undefined); // else initdb runs in the worker
  }
  const workerData: PgliteWorkerData = {
    pglite: pathToFileURL(createRequire(import.meta.url).resolve("@electric-sql/pglite")).href,
    dir,
    template,
    extraStartParams: [...profile.startParams, ...(opts.extraStartParams ?? [])],
    initdbParams: [...profile.initdbParams],
    checkpoint: {
      sql: WAL_SINCE_CHECKPOINT,
      walBytes: opts.checkpointWalBytes ?? profile.checkpointWalBytes,
      intervalMs: opts.checkpointIntervalMs ?? CHECKPOINT_INTERVAL_MS,
    },
  };
  // execArgv [] : plain JavaScript, so no TypeScript loader (tsx) in the worker even when the parent has one.
  // A small young generation: the worker's per-statement garbage is short-lived, and V8's default lets
  // the semi-spaces grow to 16 MB resident while PGlite starts (measured: 16.8 MB → 4.2 MB).
  const worker = new Worker(PGLITE_WORKER_SCRIPT, { eval: true, workerData, execArgv: [], name: "pglite", resourceLimits: { maxYoungGenerationSizeMb: 4 } });

  const pending = new Map<number, { resolve: (a: Answer) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let failure: Error | undefined; // set once the worker is gone: every call rejects with it
  let opened: { resolve: () => void; reject: (e: Error) => void } | undefined;
  const ready = new Promise<void>((resolve, reject) => (opened = { resolve, reject }));

  const fail = (e: Error): void => {
    failure ??= e;
    opened?.reject(failure);
    for (const p of pending.values()) p.reject(failure);
    pending.clear();
  };
  worker.on("message", (m: PgliteReply) => {
    if ("event" in m) {
      if (m.event === "ready") opened?.resolve();
      else if (m.event === "templateFailed") {
        if (template) discardTemplate(profile); // damaged: the next fresh database makes a new one
      } else fail(Object.assign(fromWire(m.error), { message: `PGlite worker could not open the database: ${m.error.message}` }));
      return;
    }
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (pending.size === 0) worker.unref(); // idle: the database alone does not keep the process alive
    if ("error" in m) p.reject(fromWire(m.error));
    else p.resolve(m);
  });
  worker.on("error", (e) => fail(new Error(`PGlite worker failed: ${e.message}`, { cause: e })));
  worker.on("messageerror", (e) => fail(new Error(`PGlite worker sent an unreadable message: ${e.message}`, { cause: e })));
  worker.on("exit", (code) => fail(new Error(`PGlite worker exited (code ${code}); the database is closed`)));

  const call = (req: Request): Promise<Answer> => {
    if (failure) return Promise.reject(failure);
    const id = nextId++;
    return new Promise<Answer>((resolve, reject) => {
      if (pending.size === 0) worker.ref(); // an answer is awaited: keep the process alive for it
      pending.set(id, { resolve, reject });
      worker.postMessage({ ...req, id });
    });
  };
  const rowsOf = <T>(a: Answer): T[] => ("rows" in a ? (a.rows as T[]) : []);
  const query = async <T>(sql: string, params: unknown[] | undefined, o: QueryOptions | undefined, tx: number | undefined): Promise<{ rows: T[] }> => ({
    rows: rowsOf<T>(await call({ op: "query", sql, params, prepare: o?.prepare, tx })),
  });

  const sql: SqlClient = {
    query: (text, params, o) => query(text, params, o, undefined),
    async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      const begun = await call({ op: "begin" });
      if (!("tx" in begun)) throw new Error("PGlite worker did not open a transaction");
      const id = begun.tx;
      const tx: SqlClient = { query: (text, params, o) => query(text, params, o, id), transaction: (inner) => inner(tx) };
      let result: T;
      try {
        result = await fn(tx);
      } catch (e) {
        await call({ op: "end", tx: id, commit: false }).catch(() => undefined); // the caller's error is the one to see
        throw e;
      }
      await call({ op: "end", tx: id, commit: true });
      return result;
    },
  };

  try {
    await ready;
  } catch (e) {
    await worker.terminate();
    throw e;
  }
  opened = undefined;
  if (pending.size === 0) worker.unref();

  let closing: Promise<void> | undefined;
  return {
    sql,
    migrationClient: {
      async query(text: string, values?: unknown[]) {
        if (values && values.length > 0) return { rows: rowsOf(await call({ op: "query", sql: text, params: values, prepare: undefined, tx: undefined })) };
        return { rows: rowsOf(await call({ op: "exec", sql: text })) };
      },
    },
    close: () =>
      (closing ??= (async () => {
        if (!failure) await call({ op: "close" }).catch(() => undefined);
        failure ??= new Error("the database is closed");
        await worker.terminate();
      })()),
    worker,
  };
}
