// The nightly analysis end to end: shadow results recorded through the evaluator's store in a real
// (PGlite) database, then `npm run analyze` as a process: the category where the cheap model agrees
// with the served one is recommended for a downgrade, the one where it does not is kept, and the
// YAML patch proposes exactly the first; the semantic cache's audits are reported apart.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "#libs/sql/open-database.ts";
import { EVALUATOR_MIGRATIONS } from "#services/evaluator/storage/migrations.ts";
import { ShadowResultStore } from "#services/evaluator/storage/shadow-results.ts";

const dir = mkdtempSync(join(tmpdir(), "llmgw-analysis-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("npm run analyze", () => {
  it("recommends the category where the cheap model is as good, keeps the one where it is not", async () => {
    const db = await openDatabase(`pglite:${dir}/db`, { migrations: [EVALUATOR_MIGRATIONS] });
    const store = new ShadowResultStore(db.sql);
    const add = async (category: string, n: number, passes: number) => {
      for (let i = 0; i < n; i++) {
        await store.record({ requestId: `${category}-${i}`, candidateModel: "gpt-4o-mini", tenantId: "acme", category, tier: "HIGH", servedModel: "gpt-4o", ok: i < passes, score: i < passes ? 1 : 0, failures: [], verdicts: [], candidateCostUsd: "0.0002" }, undefined);
      }
    };
    await add("qa", 160, 159); // 99% agreement: clearly above 1 - δ = 90%
    await add("code", 160, 120); // 75%: clearly below
    await add("chat", 10, 10); // too few to decide
    // Audits of semantic cache hits: reported apart, never downgrade evidence.
    for (let i = 0; i < 40; i++) {
      await store.record({ requestId: `audit-${i}`, candidateModel: "gpt-4o-mini", tenantId: "acme", category: "static_knowledge", tier: "LOW", servedModel: "gpt-4o-mini", ok: i >= 6, score: i >= 6 ? 1 : 0, failures: [], verdicts: [], candidateCostUsd: "0.0001", direction: "cache", cacheSimilarity: 0.9 }, undefined);
    }
    await db.close();

    const out = join(dir, "reports");
    const stdout = execFileSync(process.execPath, ["--import", "tsx", "services/evaluator/cli/analyze.ts", "--database-url", `pglite:${dir}/db`, "--out", out, "--since", "1d"], { stdio: "pipe", encoding: "utf8" });
    expect(stdout).toMatch(/cache audits since \S+: static_knowledge 6\/40 wrong \(15\.0%, 95% 7\.1%-29\.1%\)/);
    const file = (re: RegExp) => join(out, readdirSync(out).find((f) => re.test(f)) ?? "missing");
    const report = JSON.parse(readFileSync(file(/^analysis-.*\.json$/), "utf8")) as { cells: { category: string; decision: string; n: number }[] };
    const decision = Object.fromEntries(report.cells.map((c) => [c.category, c.decision]));
    expect(decision).toEqual({ qa: "downgrade", code: "keep", chat: "insufficient" });

    const patch = parse(readFileSync(file(/^routing-overrides-.*\.yaml$/), "utf8")) as { routing: { overrides: { category: string; tier: string; use: string }[] } };
    expect(patch.routing.overrides.map((x) => [x.category, x.tier, x.use])).toEqual([["qa", "HIGH", "gpt-4o-mini"]]);
    expect(readFileSync(file(/^analysis-.*\.md$/), "utf8")).toContain("qa");
  }, 180_000); // 330 PGlite inserts and a tsx process: over 60 s at load average ~19 on the shared 2-core machine
});
