import { execFile } from "node:child_process";
import { LEDGER_MIGRATIONS } from "../storage/migrations.ts";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadPriceTable } from "#libs/pricing/price-table.ts";
import { LedgerWriter } from "../storage/ledger-writer.ts";
import { migrate } from "#libs/sql/migrate.ts";
import { createPgPool, pgSqlClient } from "#libs/sql/pg-client.ts";
import { makeEvent, TEST_DATABASE_URL, uniqueId } from "../storage/test-support.ts";
import type pg from "pg";

const run = promisify(execFile);
const schema = uniqueId("ledger_cli");
let pool: pg.Pool;

const mini = { model: "gpt-4o-mini", usage: { inputTokens: 1000, outputTokens: 500 } }; // $0.00045

async function cli(script: string, args: string[]): Promise<unknown> {
  const { stdout } = await run("npx", ["tsx", `services/ledger/cli/${script}.ts`, ...args, "--database-url", TEST_DATABASE_URL, "--schema", schema, "--json"], { cwd: process.cwd() });
  return JSON.parse(stdout);
}

describe("ledger CLIs against PostgreSQL", () => {
  beforeAll(async () => {
    await migrate({ kind: "pg", databaseUrl: TEST_DATABASE_URL, schema }, LEDGER_MIGRATIONS);
    pool = createPgPool(TEST_DATABASE_URL, { schema });
    await new LedgerWriter(pgSqlClient(pool), loadPriceTable()).writeBatch([
      makeEvent({ requestId: "a", completedAt: "2025-10-15T10:00:00.000Z", calls: [mini] }),
      makeEvent({ requestId: "b", completedAt: "2025-10-15T11:00:00.000Z", calls: [mini] }),
      makeEvent({ requestId: "c", completedAt: "2025-10-15T12:00:00.000Z", calls: [{ model: "gpt-4o", usage: { inputTokens: 200, cachedInputTokens: 1800, outputTokens: 100 } }] }),
      makeEvent({ requestId: "d", completedAt: "2025-10-16T09:00:00.000Z", calls: [mini] }),
      // not OpenAI: excluded from the reconciliation
      makeEvent({ requestId: "e", completedAt: "2025-10-16T09:00:00.000Z", calls: [{ model: "claude-sonnet-4-5", provider: "anthropic", usage: { inputTokens: 10 } }] }),
    ]);
  });
  afterAll(async () => {
    await pool?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool?.end();
  });

  it("reconcile: per day and model differences from an OpenAI export fixture", async () => {
    const out = (await cli("reconcile", ["--file", "services/ledger/cli/fixtures/openai-org-export.json"])) as {
      rows: Array<{ day: string; model: string; providerUsd: string; providerUsageUsd: string; ledgerUsd: string; diffUsd: string; providerRequests: number; ledgerCalls: number; providerPromptTokens: number; ledgerPromptTokens: number }>;
      totalDiffUsd: string;
    };
    const brief = out.rows.map((r) => [r.day, r.model, r.providerUsd, r.providerUsageUsd, r.ledgerUsd, r.diffUsd]);
    expect(brief).toEqual([
      ["2025-10-15", "gpt-4o", "0.00425", "0.00375", "0.00375", "0.0005"],
      ["2025-10-15", "gpt-4o-mini", "0.0009", "0.0009", "0.0009", "0"],
      ["2025-10-16", "gpt-4.1", "0.002", "", "0", "0.002"],
      ["2025-10-16", "gpt-4o-mini", "0.00045", "", "0.00045", "0"],
    ]);
    expect(out.rows[0]).toMatchObject({ providerRequests: 1, ledgerCalls: 1, providerPromptTokens: 2000, ledgerPromptTokens: 2000 });
    expect(out.totalDiffUsd).toBe("0.0025");
  });

  it("report: totals and groups from the rollup", async () => {
    const out = (await cli("report", ["--since", "2025-10-15T00:00:00Z", "--group-by", "day"])) as { total: { requests: number; cost_usd: string }; rows: Array<{ group: string; cost_usd: string }> };
    expect(out.total.requests).toBe(5);
    // 3 x 0.00045 + 0.00375 + 10 x 3 / 1e6
    expect(out.total.cost_usd).toBe("0.00513");
    expect(out.rows.map((r) => [r.group, r.cost_usd])).toEqual([["2025-10-15", "0.00465"], ["2025-10-16", "0.00048"]]);
  });
});
