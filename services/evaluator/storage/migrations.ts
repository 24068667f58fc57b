// The evaluator's migrations: its SQL files and its own node-pg-migrate bookkeeping table (it may
// share a database with the ledger).
import { projectPath } from "#libs/config/project-root.ts";
import type { MigrationSet } from "#libs/sql/migrate.ts";

export const EVALUATOR_MIGRATIONS: MigrationSet = { dir: projectPath("services", "evaluator", "migrations"), table: "pgmigrations_evaluator" };
