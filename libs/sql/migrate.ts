import type { PGlite } from "@electric-sql/pglite";
import { runner } from "node-pg-migrate";

export type RunMigration = Awaited<ReturnType<typeof runner>>[number];

/** One service's migrations: its folder of SQL files and its own bookkeeping table. */
export interface MigrationSet {
  dir: string;
  table: string;
}

/** The one method node-pg-migrate's `dbClient` needs. */
export interface MigrationClient {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

export type MigrationTarget =
  | { kind: "pg"; databaseUrl: string; schema?: string }
  | { kind: "pglite"; db: PGlite }
  /** PGlite behind a client (the worker thread's, pglite-worker-client.ts). */
  | { kind: "pglite-client"; client: MigrationClient };

export interface MigrateOptions {
  direction?: "up" | "down";
  count?: number;
  log?: (msg: string) => void;
}

/**
 * Runs one service's migrations with node-pg-migrate on PostgreSQL or PGlite (through its
 * `dbClient` option: node-pg-migrate only needs `query(text, values)`), same files, same SQL.
 */
export async function migrate(target: MigrationTarget, set: MigrationSet, opts: MigrateOptions = {}): Promise<RunMigration[]> {
  const log = opts.log ?? (() => {});
  const common = {
    dir: set.dir,
    migrationsTable: set.table,
    direction: opts.direction ?? "up",
    count: opts.count ?? Infinity,
    singleTransaction: true,
    checkOrder: true,
    log,
    logger: { debug: log, info: log, warn: log, error: log },
  } as const;
  if (target.kind === "pg") {
    return runner({
      ...common,
      databaseUrl: target.databaseUrl,
      ...(target.schema ? { schema: target.schema, createSchema: true } : {}),
      // Concurrent replicas starting together wait for the one that migrates.
      advisoryLockMode: "wait",
    });
  }
  // PGlite is single-connection: no other migrator can race it.
  const client = target.kind === "pglite" ? pgliteMigrationClient(target.db) : target.client;
  return runner({ ...common, dbClient: client as never, noLock: true });
}

/**
 * The minimal pg-client shape node-pg-migrate's `dbClient` needs. Queries without parameters go
 * through `exec` because a migration file holds several statements (the extended protocol used
 * by `query` accepts only one).
 */
function pgliteMigrationClient(db: PGlite): MigrationClient {
  return {
    async query(text: string, values?: unknown[]) {
      if (values && values.length > 0) return { rows: (await db.query(text, values)).rows };
      const results = await db.exec(text);
      const last = results[results.length - 1];
      return { rows: last ? last.rows : [] };
    },
  };
}
