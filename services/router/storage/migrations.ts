// The router's migrations: the versioned routing policy.
import { projectPath } from "#libs/config/project-root.ts";
import type { MigrationSet } from "#libs/sql/migrate.ts";

export const ROUTER_MIGRATIONS: MigrationSet = { dir: projectPath("services", "router", "migrations"), table: "pgmigrations_router" };
