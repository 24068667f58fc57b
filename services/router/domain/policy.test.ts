import { describe, expect, it } from "vitest";
import { loadConfig, parseConfig } from "#libs/config/load.ts";
import { loadPriceTable } from "#libs/pricing/index.ts";
import type { RoutingOverride } from "#libs/config/routing-overrides.ts";
import type { PolicyArm } from "./canary-arm.ts";
import { modelViews } from "./models.ts";
import { decide, type PolicyDeps } from "./policy.ts";
import { SessionStore } from "./sessions.ts";
import type { BreakerState, RouteInput } from "./types.ts";

const config = loadConfig({ env: {} });
const models = modelViews(config, loadPriceTable());

function deps(open: string[] = [], now = () => 0): PolicyDeps {
  return { config, models, health: (m): BreakerState => (open.includes(m) ? "open" : "closed"), sessions: new SessionStore(undefined, now) };
}

const base: RouteInput = { requestedModel: "auto", tier: "LOW", category: "chat", inputTokens: 20, maxTokens: 256, capabilities: [], sessionId: "", strategy: "", budgetState: "ok", stream: false };

describe("routing policy", () => {
  it.each<[string, Partial<RouteInput>, string, boolean]>([
    ["LOW goes to the cheapest LOW model", {}, "small-8k", false],
    ["tools skip models without tool support", { capabilities: ["tools"] }, "gpt-4.1-nano", false],
    ["too long for small-8k goes to one that fits", { inputTokens: 20_000 }, "gpt-4.1-nano", false],
    ["MEDIUM cascades from the cheapest MEDIUM model", { tier: "MEDIUM" }, "gpt-4o-mini", true],
    ["MEDIUM streams are not cascaded", { tier: "MEDIUM", stream: true }, "gpt-4o-mini", false],
    ["HIGH goes to a strong model", { tier: "HIGH" }, "gpt-4o", false],
    ["AGENTIC with tools goes to an agentic model", { tier: "AGENTIC", capabilities: ["tools"] }, "gpt-4o", false],
    ["quality strategy prefers the best", { tier: "HIGH", strategy: "quality" }, "claude-sonnet-4-5", false],
    ["latency strategy prefers the fastest", { tier: "MEDIUM", strategy: "latency", stream: true }, "gpt-4o-mini", false],
    ["a concrete model is honoured", { requestedModel: "claude-sonnet-4-5" }, "claude-sonnet-4-5", false],
  ])("%s", (_name, patch, first, cascade) => {
    const d = decide({ ...base, ...patch }, deps());
    expect(d.candidates[0]?.id).toBe(first);
    expect(d.cascade).toBe(cascade);
    expect(d.reasons.length).toBeGreaterThan(0);
  });

  it("escalates a cascade to the next tier", () => {
    const d = decide({ ...base, tier: "MEDIUM" }, deps());
    expect(d.escalation[0]?.id).toBe("gpt-4o");
    expect(d.candidates.every((m) => config.routing.tiers.MEDIUM?.includes(m.id))).toBe(true);
  });

  it("never offers a model whose context window is too small", () => {
    const d = decide({ ...base, inputTokens: 150_000 }, deps());
    expect(d.candidates.length).toBeGreaterThan(0);
    expect(d.candidates.every((m) => m.contextWindow >= 150_000)).toBe(true);
  });

  it("skips an open breaker", () => {
    const d = decide(base, deps(["small-8k"]));
    expect(d.candidates.map((m) => m.id)).not.toContain("small-8k");
    expect(d.reasons.join()).toContain("breaker open");
  });

  it("never drops a tier within a conversation", () => {
    const p = deps();
    expect(decide({ ...base, tier: "HIGH", sessionId: "s1" }, p).tier).toBe("HIGH");
    const next = decide({ ...base, tier: "LOW", sessionId: "s1" }, p);
    expect(next.tier).toBe("HIGH");
    expect(next.reasons.join()).toContain("session stays at HIGH");
  });

  it("prefers a cheaper tier past the soft budget limit", () => {
    const d = decide({ ...base, tier: "HIGH", budgetState: "soft" }, deps());
    expect(d.tier).toBe("MEDIUM");
  });

  it("keeps the warm provider in a conversation", () => {
    let t = 0;
    const p = deps([], () => t);
    p.sessions.record("s2", "MEDIUM", "anthropic", "claude-3-5-haiku-latest");
    t = 1000;
    const d = decide({ ...base, tier: "MEDIUM", sessionId: "s2", stream: true }, p);
    expect(d.candidates[0]?.provider).toBe("anthropic");
  });

  it("returns no candidates when nothing fits", () => {
    expect(decide({ ...base, inputTokens: 5_000_000 }, deps()).candidates).toEqual([]);
  });

  it("a capability no tier's model has (reasoning) goes to a configured model outside the tiers, uncascaded", () => {
    const d = decide({ ...base, tier: "MEDIUM", capabilities: ["reasoning"] }, deps());
    expect(d.candidates.map((m) => m.id)).toEqual(["o3-mini"]);
    expect(d.cascade).toBe(false);
    expect(d.reasons.join("; ")).toContain("using o3-mini from outside the tiers");
    expect(d.reasons.join("; ")).not.toContain("text-embedding");
    expect(decide({ ...base, requestedModel: "gpt-4o-mini", capabilities: ["reasoning"] }, deps()).refusal).toMatchObject({ code: "unsupported_capability" });
    // A context misfit never leaves the tiers.
    expect(decide({ ...base, inputTokens: 5_000_000 }, deps()).reasons.join()).not.toContain("outside the tiers");
  });

  it("counts the whole max_tokens against the window and each model's output limit (Claude Code asks for 32,000)", () => {
    const d = decide({ ...base, maxTokens: 32_000 }, deps());
    expect(d.candidates.length).toBeGreaterThan(0);
    for (const m of d.candidates) {
      expect(m.maxOutputTokens).toBeGreaterThanOrEqual(32_000);
      expect(m.contextWindow).toBeGreaterThanOrEqual(32_020);
    }
    expect(d.reasons.join("; ")).toContain("small-8k: output limit");
    // Past every model's output limit: a 400 on max_tokens, not a context error.
    expect(decide({ ...base, maxTokens: 500_000 }, deps()).refusal).toMatchObject({ code: "invalid_value", param: "max_tokens" });
    // A named model that cannot write that much is refused the same way.
    expect(decide({ ...base, requestedModel: "gpt-4o", maxTokens: 32_000 }, deps()).refusal).toMatchObject({ code: "invalid_value", param: "max_tokens" });
  });
});

describe("shadow sampling", () => {
  const withShadow = (rate: number, candidates = 1) => {
    const c = structuredClone(config);
    c.routing.shadow = { sample_rate: rate, tiers: ["HIGH"], candidates, daily_cap_usd: 5, exclude_tenants: ["eu-only"], store_inputs: true, cache_audit_rate: 0 };
    return c;
  };
  const at = (rate: number, draw: number, patch: Partial<RouteInput> = {}, candidates = 1) =>
    decide({ ...base, tier: "HIGH", ...patch }, { ...deps(), config: withShadow(rate, candidates), random: () => draw });

  it("a sampled HIGH request names the next tier's cheapest capable model", () => {
    const d = at(0.5, 0.1);
    expect(d.candidates[0]?.id).toBe("gpt-4o");
    expect(d.shadow.map((m) => m.id)).toEqual(["gpt-4o-mini"]);
    expect(d.reasons.join("\n")).toContain("shadow test on gpt-4o-mini");
  });

  it.each<[string, number, number, Partial<RouteInput>]>([
    ["not drawn", 0.5, 0.9, {}],
    ["rate 0", 0, 0, {}],
    ["tier not sampled", 1, 0, { tier: "MEDIUM" }],
    ["a concrete model", 1, 0, { requestedModel: "gpt-4o" }],
    ["an excluded tenant", 1, 0, { tenantId: "eu-only" }],
  ])("no shadow test when %s", (_name, rate, draw, patch) => {
    expect(at(rate, draw, patch).shadow).toEqual([]);
  });

  it("more candidates when configured, never the served model, only capable ones", () => {
    expect(at(1, 0, {}, 2).shadow.map((m) => m.id)).toEqual(["gpt-4o-mini", "claude-3-5-haiku-latest"]);
    expect(at(1, 0, { capabilities: ["vision"] }, 3).shadow.every((m) => m.capabilities.includes("vision"))).toBe(true);
  });
});

describe("routing overrides", () => {
  const withOverrides = (overrides: typeof config.routing.overrides) => {
    const c = structuredClone(config);
    c.routing.overrides = overrides;
    return c;
  };
  const route = (overrides: typeof config.routing.overrides, patch: Partial<RouteInput> = {}) =>
    decide({ ...base, tier: "HIGH", category: "qa", ...patch }, { ...deps(), config: withOverrides(overrides) });
  const evidence = { n: 160, passes: 159, rate: 0.994, ci: [0.965, 0.999] as [number, number], p_adjusted: 0.001, margin: 0.1, correction: "holm" as const, generated_at: "2026-11-30T00:00:00Z" };

  it("puts the shadow-tested model first for its category and tier, the usual candidates after it", () => {
    const d = route([{ category: "qa", tier: "HIGH", instead_of: "gpt-4o", use: "gpt-4o-mini", reason: "", evidence }]);
    expect(d.candidates.map((m) => m.id).slice(0, 2)).toEqual(["gpt-4o-mini", "gpt-4o"]);
    expect(d.reasons.join("\n")).toContain("override qa/HIGH: gpt-4o -> gpt-4o-mini (shadow-tested: 159/160 agreed)");
  });

  it.each<[string, Partial<RouteInput>, string | undefined]>([
    ["another category", { category: "code" }, undefined],
    ["another tier", { tier: "MEDIUM" }, undefined],
    ["another served model", {}, "claude-sonnet-4-5"],
  ])("does not apply to %s", (_n, patch, insteadOf) => {
    const d = route([{ category: "qa", tier: "HIGH", ...(insteadOf ? { instead_of: insteadOf } : {}), use: "gpt-4.1-nano", reason: "" }], patch);
    expect(d.candidates[0]?.id).not.toBe("gpt-4.1-nano");
  });

  it("is skipped, with the reason, when its model cannot take the request", () => {
    const d = route([{ category: "qa", tier: "HIGH", use: "small-8k", reason: "" }], { inputTokens: 20_000 });
    expect(d.candidates[0]?.id).toBe("gpt-4o");
    expect(d.reasons.join("\n")).toMatch(/override qa\/HIGH -> small-8k not applied \(small-8k: context/);
  });

  it("replaces the cascade when its model is one the cascade escalates to", () => {
    const d = route([{ category: "qa", tier: "MEDIUM", use: "gpt-4o", reason: "" }], { tier: "MEDIUM" });
    expect([d.candidates[0]?.id, d.cascade]).toEqual(["gpt-4o", false]);
  });

  it("keeps the cascade's check on a cheaper first model (its shadow tests only saw answers that passed it)", () => {
    const d = route([{ category: "math", tier: "MEDIUM", instead_of: "gpt-4o-mini", use: "small-8k", reason: "" }], { tier: "MEDIUM", category: "math" });
    expect([d.candidates[0]?.id, d.cascade, d.escalation[0]?.id]).toEqual(["small-8k", true, "gpt-4o"]);
    expect(d.reasons.join("\n")).toContain("cascade: small-8k verified, escalates to gpt-4o");
  });

  it("config refuses two overrides for the same category, tier and served model", () => {
    const raw = structuredClone(config) as unknown as Record<string, Record<string, unknown>>;
    (raw.routing as Record<string, unknown>).overrides = [
      { category: "qa", tier: "HIGH", use: "gpt-4o-mini" },
      { category: "qa", tier: "HIGH", use: "gpt-4.1-nano" },
    ];
    expect(() => parseConfig(raw)).toThrow(/duplicate override/);
  });
});

describe("canary arm", () => {
  const downgrade: RoutingOverride[] = [{ category: "qa", tier: "HIGH", instead_of: "gpt-4o", use: "gpt-4o-mini", reason: "" }];
  const route = (canary: boolean, draw: number, rate = 0.5) => {
    const c = structuredClone(config);
    c.routing.canary = { shadow_rate: rate };
    return decide(
      { ...base, tier: "HIGH", category: "qa", sessionId: "s1", tenantId: "t1" },
      { ...deps(), config: c, random: () => draw, arm: (): PolicyArm => (canary ? { version: 7, canary: true, overrides: downgrade } : { version: 3, canary: false, overrides: [] }) },
    );
  };

  it("routes by the arm's overrides and names the arm's version", () => {
    const live = route(false, 0.9);
    expect(live.candidates[0]?.id).toBe("gpt-4o");
    expect(live.policy).toEqual({ version: 3, canary: false });
    const canary = route(true, 0.9);
    expect(canary.candidates[0]?.id).toBe("gpt-4o-mini");
    expect(canary.policy).toEqual({ version: 7, canary: true });
    expect(canary.reasons.join("\n")).toContain("canary v7 override qa/HIGH: gpt-4o -> gpt-4o-mini");
    expect(canary.shadow).toEqual([]);
  });

  it("samples a canary's downgrade for an upward check against the live version's model", () => {
    const d = route(true, 0.1);
    expect(d.shadowUpward).toBe(true);
    expect(d.shadow.map((m) => m.id)).toEqual(["gpt-4o"]);
    expect(route(true, 0.1, 0).shadow).toEqual([]);
    expect(route(false, 0.1).shadowUpward).toBeUndefined();
  });
});
