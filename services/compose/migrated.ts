// One database per process, shared by the services that keep rows in it; each service's migrations
// run once, before its first use.
import type { MigrationSet } from "#libs/sql/migrate.ts";
import type { OpenedDatabase } from "#libs/sql/open-database.ts";

const applied = new WeakMap<Promise<OpenedDatabase>, Map<string, Promise<void>>>();

export async function migrated(set: MigrationSet, db: Promise<OpenedDatabase>): Promise<OpenedDatabase> {
  let sets = applied.get(db);
  if (!sets) applied.set(db, (sets = new Map()));
  let run = sets.get(set.table);
  if (!run) sets.set(set.table, (run = db.then((d) => d.migrate(set))));
  await run;
  return db;
}
