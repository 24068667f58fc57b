// npm run migrate -- [--database-url URL] [--schema S] [--down] [--count N]
import { LEDGER_MIGRATIONS } from "../storage/migrations.ts";
import { PGlite } from "@electric-sql/pglite";
import { mkdirSync } from "node:fs";
import { Command } from "commander";
import { migrate } from "#libs/sql/migrate.ts";
import { embeddedDatabaseUrl, readSettings } from "#libs/config/settings.ts";

const program = new Command()
  .name("migrate")
  .description("Run the ledger migrations (node-pg-migrate) on PostgreSQL or PGlite")
  .option("--database-url <url>", "postgres://... or pglite:<dir> (default LLMGW_DATABASE_URL, DATABASE_URL, else pglite:$LLMGW_DATA_DIR/ledger)")
  .option("--schema <schema>", "PostgreSQL schema (created if missing)")
  .option("--down", "roll back instead of applying")
  .option("--count <n>", "number of migrations to run", (v) => Number(v))
  .parse();

const o = program.opts<{ databaseUrl?: string; schema?: string; down?: boolean; count?: number }>();
const settings = readSettings(process.env);
const url = o.databaseUrl ?? settings.databaseUrl ?? embeddedDatabaseUrl(settings);
const direction = o.down ? "down" : "up";
const count = o.count ?? (o.down ? 1 : Infinity);
const log = (m: string) => console.log(m);

if (url.startsWith("pglite:")) {
  const dir = url.slice("pglite:".length);
  if (dir && dir !== "memory") mkdirSync(dir, { recursive: true });
  const db = dir && dir !== "memory" ? new PGlite(dir) : new PGlite();
  const ran = await migrate({ kind: "pglite", db }, LEDGER_MIGRATIONS, { direction, count, log });
  console.log(`${ran.length} migration(s) ${direction} on ${url}`);
  await db.close();
} else {
  const ran = await migrate({ kind: "pg", databaseUrl: url, ...(o.schema ? { schema: o.schema } : {}) }, LEDGER_MIGRATIONS, { direction, count, log });
  console.log(`${ran.length} migration(s) ${direction}`);
}
