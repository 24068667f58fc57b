import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { decisionReason, observeHook } from "./observe-hook.ts";
import type { ChatOutcome, ChatRecord } from "./record.ts";

describe("decisionReason", () => {
  it("names the most specific reason with a bounded set of values", () => {
    expect(decisionReason(["MEDIUM -> gpt-4o-mini (cheapest)"])).toBe("classified");
    expect(decisionReason(["model gpt-4o requested", "HIGH -> gpt-4o (cheapest)"])).toBe("requested");
    expect(decisionReason(["soft budget limit: HIGH -> MEDIUM", "MEDIUM -> m (cheapest)"])).toBe("soft_budget");
    expect(decisionReason(["session stays at HIGH (classified LOW)"])).toBe("session");
    expect(decisionReason(["override code/HIGH: gpt-4o -> gpt-4o-mini (shadow-tested: 190/200 agreed)"])).toBe("override");
    expect(decisionReason(["canary v3 override code/HIGH: gpt-4o -> gpt-4o-mini"])).toBe("canary");
    expect(decisionReason(["override code/HIGH -> x not applied (unknown model)", "HIGH -> gpt-4o (cheapest)"])).toBe("classified");
  });
});

describe("observeHook", () => {
  it("records the GenAI server metrics and the routing decision of one streamed answer", async () => {
    const registry = new Registry();
    const hook = observeHook(registry);
    const rec = {
      call: { body: { model: "auto", messages: [] } },
      route: { tier: 2, cascade: true, candidates: [{ model: "gpt-4o-mini" }], reasons: ["MEDIUM -> gpt-4o-mini (cheapest)"] },
    } as unknown as ChatRecord;
    const out: ChatOutcome = { status: 200, errorCode: "", runs: [], escalated: false, overheadMs: 1, totalMs: 1_100, firstTokenMs: 100, stream: true, model: "gpt-4o-mini", provider: "openai", completion: { usage: { completion_tokens: 11 } } as ChatOutcome["completion"] };
    hook(rec, out);
    hook(rec, { ...out, status: 502, errorCode: "upstream_error", stream: false });
    const json = await registry.getMetricsAsJSON();
    const sum = (name: string) => json.find((m) => m.name === name)?.values.filter((v) => (v as { metricName?: string }).metricName?.endsWith("_sum"));
    expect(sum("gen_ai_server_time_to_first_token_seconds")?.[0]?.value).toBeCloseTo(0.1);
    // (1100 - 100) ms over the 10 tokens after the first.
    expect(sum("gen_ai_server_time_per_output_token_seconds")?.[0]?.value).toBeCloseTo(0.1);
    const durations = sum("gen_ai_server_request_duration_seconds") ?? [];
    expect(durations.map((v) => v.labels["error_type"]).sort()).toEqual(["", "upstream_error"]);
    expect(durations[0]?.labels).toMatchObject({ gen_ai_operation_name: "chat", gen_ai_request_model: "auto", gen_ai_response_model: "gpt-4o-mini", gen_ai_provider_name: "openai" });
    const decisions = json.find((m) => m.name === "llmgw_routing_decisions_total")?.values ?? [];
    // A stream is never cascaded, whatever the route asked.
    expect(decisions.map((v) => [v.labels["cascade"], v.value]).sort()).toEqual([["false", 1], ["true", 1]]);
    expect(decisions[0]?.labels).toMatchObject({ tier: "MEDIUM", model: "gpt-4o-mini", reason: "classified" });
  });
});
