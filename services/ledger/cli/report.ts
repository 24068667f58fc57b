// npm run report -- --since 7d [--group-by model] [--tenant T] [--database-url URL] [--json]
import { LEDGER_MIGRATIONS } from "../storage/migrations.ts";
import { embeddedDatabaseUrl, readSettings } from "#libs/config/settings.ts";
import Table from "cli-table3";
import { Command } from "commander";
import { Decimal } from "decimal.js";
import { requireSince } from "#libs/time/since.ts";
import { openDatabase } from "#libs/sql/open-database.ts";
import { GROUP_BYS, SpendReport, type GroupBy, type SpendRow } from "../storage/spend-report.ts";

const program = new Command()
  .name("report")
  .description("Spend, baseline and measured savings from the ledger")
  .option("--since <when>", "ISO time or relative 7d / 24h / 30m", "7d")
  .option("--group-by <dim>", `one of ${GROUP_BYS.join(", ")}`)
  .option("--tenant <id>", "only this tenant")
  .option("--database-url <url>", "postgres://... or pglite:<dir>")
  .option("--schema <schema>", "PostgreSQL schema")
  .option("--json", "print JSON instead of a table")
  .parse();

const o = program.opts<{ since: string; groupBy?: string; tenant?: string; databaseUrl?: string; schema?: string; json?: boolean }>();
if (o.groupBy && !(GROUP_BYS as readonly string[]).includes(o.groupBy)) {
  console.error(`--group-by must be one of ${GROUP_BYS.join(", ")}`);
  process.exit(2);
}
const since = requireSince(o.since);
const settings = readSettings(process.env);
const db = await openDatabase(o.databaseUrl ?? settings.databaseUrl ?? embeddedDatabaseUrl(settings), { ...(o.schema ? { schema: o.schema } : {}), migrations: [LEDGER_MIGRATIONS] });
try {
  const result = await new SpendReport(db.sql).query({
    since,
    ...(o.groupBy ? { groupBy: o.groupBy as GroupBy } : {}),
    ...(o.tenant ? { tenantId: o.tenant } : {}),
  });
  if (o.json) {
    console.log(JSON.stringify({ since: since.toISOString(), ...result }, null, 2));
  } else {
    const usd = (s: string) => `$${new Decimal(s).toFixed(6)}`;
    const table = new Table({
      head: [o.groupBy ?? "", "requests", "unpriced", "cost", "baseline", "savings", "cache", "routing", "cascade", "batch"],
      colAligns: ["left", "right", "right", "right", "right", "right", "right", "right", "right", "right"],
    });
    const line = (r: SpendRow) => [r.group, r.requests, r.unpriced_requests, usd(r.cost_usd), usd(r.baseline_usd), usd(r.savings_usd),
      usd(r.cache_savings_usd), usd(r.routing_savings_usd), usd(r.cascade_savings_usd), usd(r.batch_savings_usd)];
    for (const r of result.rows) table.push(line(r));
    table.push(line(result.total));
    console.log(`Spend since ${since.toISOString()}${o.tenant ? ` for tenant ${o.tenant}` : ""}`);
    console.log(table.toString());
    if (result.total.unpriced_requests > 0) console.log(`warning: ${result.total.unpriced_requests} request(s) used a model without a price: their cost is a lower bound`);
  }
} finally {
  await db.close();
}
