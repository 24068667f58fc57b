// The ledger's migrations: its SQL files and its node-pg-migrate bookkeeping table.
import { projectPath } from "#libs/config/project-root.ts";
import type { MigrationSet } from "#libs/sql/migrate.ts";

export const LEDGER_MIGRATIONS: MigrationSet = { dir: projectPath("services", "ledger", "migrations"), table: "pgmigrations" };
