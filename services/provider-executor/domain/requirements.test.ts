import { describe, expect, it } from "vitest";
import { parseConfig } from "#libs/config/load.ts";
import { SIMULATOR_API_KEY, resolveDeployments } from "./deployments.ts";
import { errorFromSkips } from "./final-error.ts";
import type { AttemptRecord } from "./types.ts";

const config = parseConfig({
  edge: {},
  providers: {
    openai: { type: "openai", base_url: "https://api.openai.com/v1", api_key_env: "OPENAI_API_KEY" },
    anthropic: { type: "anthropic", base_url: "https://api.anthropic.com", api_key_env: "ANTHROPIC_API_KEY" },
  },
  models: {
    mini: { provider: "openai", upstream: "gpt-4o-mini", context_window: 1000, capabilities: ["tools", "json_mode", "streaming"] },
    haiku: { provider: "anthropic", context_window: 2000, capabilities: ["streaming", "vision"] },
  },
  routing: { reference_model: "mini", tiers: { LOW: ["mini"] } },
  services: Object.fromEntries(["classifier", "cache", "router", "executor", "evaluator", "ledger"].map((s, i) => [s, { address: `127.0.0.1:${5000 + i}`, rpc_port: 5000 + i, admin_port: 6000 + i }])),
});

describe("resolveDeployments", () => {
  it("takes keys from env, upstream names from config, and the simulator URL only via the override", () => {
    const d = resolveDeployments(config, { OPENAI_API_KEY: "sk-1" }, (p) => (p === "anthropic" ? "http://sim" : undefined));
    expect(d.get("mini")).toMatchObject({ providerType: "openai", baseURL: "https://api.openai.com/v1", apiKey: "sk-1", upstreamModel: "gpt-4o-mini", contextWindow: 1000, maxConcurrency: 64 });
    expect(d.get("haiku")).toMatchObject({ providerType: "anthropic", baseURL: "http://sim", apiKey: SIMULATOR_API_KEY, upstreamModel: "haiku" });
    expect(resolveDeployments(config, {}).get("mini")?.apiKey).toBeNull();
  });
});

describe("errorFromSkips", () => {
  const a = (status: AttemptRecord["status"], errorCode = ""): AttemptRecord => ({ model: "m", provider: "p", status, httpStatus: 0, errorCode, latencyMs: 0, usage: null });
  it.each([
    [[a("skipped_unknown_model"), a("skipped_breaker_open")], 503, "service_unavailable"],
    [[a("skipped_concurrency")], 503, "service_unavailable"],
    [[a("skipped_no_credentials")], 502, "upstream_auth_failed"],
    [[a("skipped_unknown_model")], 404, "model_not_found"],
    [[], 400, null],
  ])("%#", (attempts, status, code) => {
    const e = errorFromSkips(attempts, 10);
    expect([e.status, e.code]).toEqual([status, code]);
  });
});
