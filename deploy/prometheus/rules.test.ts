// The alerts and the Grafana dashboard against the real thing: promtool checks the rules and runs
// their unit tests (a firing and a quiet case per alert), and every metric the rules and the
// dashboard name is one a running gateway's registry exports (embedded mode: every service's
// metrics in one registry), so a renamed metric breaks this test instead of silencing an alert.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { silentLogger } from "#libs/log/logger.ts";
import { startEmbedded, type Embedded } from "#services/embedded/compose.ts";

const DIR = dirname(fileURLToPath(import.meta.url));
const RULES = join(DIR, "llmgw.rules.yml");
const RULE_TESTS = [join(DIR, "llmgw.rules.test.yml"), join(DIR, "llmgw.rules.cost.test.yml")];
const DASHBOARD = join(DIR, "..", "grafana", "llmgw-dashboard.json");

interface Rule {
  alert: string;
  expr: string;
  annotations?: Record<string, string>;
}
interface RuleTests {
  tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
}
interface Dashboard {
  panels: { title: string; type: string; targets?: { expr?: string }[] }[];
}

const rules = (parse(readFileSync(RULES, "utf8")) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);

function promtool(...args: string[]): { status: number | null; out: string } {
  const r = spawnSync("promtool", args, { cwd: DIR, encoding: "utf8" });
  if (r.error) throw new Error(`promtool not runnable (Debian package prometheus; .ci/run installs it): ${r.error.message}`);
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** Metric names in a PromQL expression (ours and the GenAI conventions'), label matchers and grouping lists left out. */
function metricNames(expr: string): string[] {
  const bare = expr.replace(/\{[^}]*\}/g, "").replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "");
  return [...bare.matchAll(/\b((?:llmgw|gen_ai)_[a-z0-9_]+)\b/g)].map((m) => m[1] ?? "");
}

describe("Prometheus rules (promtool)", () => {
  it("are valid", () => {
    const r = promtool("check", "rules", RULES);
    expect(r.status, r.out).toBe(0);
  });

  it("pass their unit tests", () => {
    const r = promtool("test", "rules", ...RULE_TESTS);
    expect(r.status, r.out).toBe(0);
    expect(r.out.match(/SUCCESS/g)?.length).toBe(RULE_TESTS.length);
  });

  it("every alert has a runbook line and a test where it fires and one where it does not", () => {
    const cases = RULE_TESTS.flatMap((f) => (parse(readFileSync(f, "utf8")) as RuleTests).tests.flatMap((t) => t.alert_rule_test ?? []));
    expect(rules.length).toBeGreaterThanOrEqual(10);
    for (const r of rules) {
      expect(r.annotations?.runbook, r.alert).toMatch(/\S{10,}/);
      const mine = cases.filter((c) => c.alertname === r.alert);
      expect(mine.some((c) => c.exp_alerts.length > 0), `${r.alert} fires somewhere`).toBe(true);
      expect(mine.some((c) => c.exp_alerts.length === 0), `${r.alert} stays quiet somewhere`).toBe(true);
    }
    // The guide's four and the operator's.
    for (const name of ["LlmgwCacheHitRateLow", "LlmgwEscalationRateHigh", "LlmgwCostPerRequestHigh", "LlmgwBatchQueueStuck", "LlmgwUnpricedModel", "LlmgwProviderErrorRateHigh", "LlmgwBreakerOpen", "LlmgwLedgerConsumerLag", "LlmgwBudgetNearLimit", "LlmgwShadowSpendNearCap"]) {
      expect(rules.map((r) => r.alert)).toContain(name);
    }
  });
});

describe("metrics named by the rules and the Grafana dashboard exist in the code", () => {
  let gw: Embedded;
  let exported: Set<string>;

  beforeAll(async () => {
    gw = await startEmbedded({ port: 0, host: "127.0.0.1", dataDir: "memory", env: { LLMGW_API_KEY: "llmgw-rules-test-admin-key-0123456789" }, logger: silentLogger() });
    exported = new Set<string>();
    for (const m of await gw.registry.getMetricsAsJSON()) {
      exported.add(m.name);
      if (String(m.type) === "histogram") for (const s of ["_bucket", "_sum", "_count"]) exported.add(m.name + s);
    }
    // Generous: a whole embedded gateway starts on a shared, busy machine.
  }, 180_000);

  afterAll(async () => {
    await gw?.stop();
  });

  it("every metric in the alert rules is exported", () => {
    const named = [...new Set(rules.flatMap((r) => metricNames(r.expr)))];
    expect(named.length).toBeGreaterThan(10);
    expect(named.filter((n) => !exported.has(n))).toEqual([]);
  });

  it("the dashboard is JSON whose every panel charts exported metrics", () => {
    const d = JSON.parse(readFileSync(DASHBOARD, "utf8")) as Dashboard;
    expect(d.panels.length).toBeGreaterThanOrEqual(15);
    for (const p of d.panels) {
      expect(p.type, p.title).toBe("timeseries");
      const exprs = (p.targets ?? []).map((t) => t.expr ?? "");
      expect(exprs.length, p.title).toBeGreaterThan(0);
      for (const e of exprs) {
        const names = metricNames(e);
        expect(names.length, `${p.title}: ${e}`).toBeGreaterThan(0);
        expect(names.filter((n) => !exported.has(n)), p.title).toEqual([]);
      }
    }
  });

  it("the OpenTelemetry GenAI metrics are exported under their convention names", () => {
    for (const n of ["gen_ai_client_token_usage", "gen_ai_server_request_duration_seconds", "gen_ai_server_time_to_first_token_seconds", "gen_ai_server_time_per_output_token_seconds"]) expect(exported.has(n), n).toBe(true);
  });
});
