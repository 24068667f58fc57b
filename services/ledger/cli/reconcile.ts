// npm run reconcile -- --file export.json [--provider openai] [--database-url URL] [--json]
import { LEDGER_MIGRATIONS } from "../storage/migrations.ts";
import { embeddedDatabaseUrl, readSettings } from "#libs/config/settings.ts";
import { readFileSync } from "node:fs";
import Table from "cli-table3";
import { Command } from "commander";
import { Decimal } from "decimal.js";
import { loadPriceTable } from "#libs/pricing/price-table.ts";
import { parseProviderExport, reconcile } from "../domain/reconcile.ts";
import { ledgerByDayModel } from "../storage/ledger-by-day-model.ts";
import { openDatabase } from "#libs/sql/open-database.ts";

const program = new Command()
  .name("reconcile")
  .description("Compare an OpenAI organization costs/usage export with the ledger, per day and model")
  .requiredOption("--file <path>", "JSON export: a /v1/organization/costs or /usage/completions page, or an array of pages")
  .option("--provider <name>", "provider name as recorded in the ledger", "openai")
  .option("--database-url <url>", "postgres://... or pglite:<dir>")
  .option("--schema <schema>", "PostgreSQL schema")
  .option("--json", "print JSON")
  .parse();

const o = program.opts<{ file: string; provider: string; databaseUrl?: string; schema?: string; json?: boolean }>();
const prices = loadPriceTable();
const exported = parseProviderExport(JSON.parse(readFileSync(o.file, "utf8")), prices);
const settings = readSettings(process.env);
const db = await openDatabase(o.databaseUrl ?? settings.databaseUrl ?? embeddedDatabaseUrl(settings), { ...(o.schema ? { schema: o.schema } : {}), migrations: [LEDGER_MIGRATIONS] });
try {
  const ledger = await ledgerByDayModel(db.sql, { provider: o.provider, fromDay: exported.from, toDay: exported.to });
  const rows = reconcile(exported.rows, ledger, prices);
  const totalDiff = rows.reduce((s, r) => s.plus(r.diffUsd), new Decimal(0));
  if (o.json) {
    console.log(JSON.stringify({ from: exported.from, to: exported.to, rows, totalDiffUsd: totalDiff.toFixed() }, null, 2));
  } else {
    const t = new Table({ head: ["day", "model", "provider $", "usage×price $", "ledger $", "diff $", "prov req", "ledger calls", "prov prompt tok", "ledger prompt tok", "prov out tok", "ledger out tok"] });
    for (const r of rows) t.push([r.day, r.model, r.providerUsd, r.providerUsageUsd, r.ledgerUsd, r.diffUsd, r.providerRequests, r.ledgerCalls, r.providerPromptTokens, r.ledgerPromptTokens, r.providerOutputTokens, r.ledgerOutputTokens]);
    console.log(`Reconciliation ${exported.from} .. ${exported.to} (${o.provider})`);
    console.log(t.toString());
    console.log(`total difference (provider - ledger): $${totalDiff.toFixed()}`);
  }
} finally {
  await db.close();
}
