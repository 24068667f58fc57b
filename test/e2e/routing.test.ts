// Routing through the gateway, end to end (openai SDK → edge → classifier/router/executor → simulator),
// against the mesh (every service behind its own gRPC server) and embedded alike. What the client
// sees (x-llmgw-* headers) is checked against what the simulator actually received.
import { randomUUID } from "node:crypto";
import type OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MODES, startGateway, testConfig, type Gateway } from "./harness.ts";
import { ask, fresh, sdkClient, seen, until, user } from "./support/requests.ts";

// Long enough that the "skipped while open" request cannot drift into the half-open window on a
// loaded machine; short enough for the re-probe poll below.
const HALF_OPEN_MS = 1_500;
const MAX_RETRIES = 2;
const BREAKER_FAILURES = MAX_RETRIES + 1; // one request whose every attempt fails opens the breaker

const config = testConfig((c) => {
  c.executor.max_retries = MAX_RETRIES;
  c.executor.breaker_failures = BREAKER_FAILURES;
  c.executor.breaker_half_open_after_ms = HALF_OPEN_MS;
});
const tiers = config.routing.tiers;
const LOW = tiers.LOW ?? [];
const AGENTIC = tiers.AGENTIC ?? [];
const SMALL_MODEL = "small-8k";

// Prompts the rule-based classifier puts in a known tier (asserted through x-llmgw-tier).
const LOW_PROMPT = "Hi there, how are you today?";
const MEDIUM_PROMPT = "Write a Python function that reverses a string.";
const HIGH_PROMPT = "Prove step by step that the square root of 2 is irrational, then analyze why the proof works and compare it with a proof by infinite descent. Derive every step rigorously.";

const weatherTool: OpenAI.Chat.ChatCompletionTool = {
  type: "function",
  function: { name: "get_weather", description: "Current weather for a city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
};

/** "cascade: <cheap> verified, escalates to <strong>" from the route reasons header. */
function cascadePair(reasons: string): { cheap: string; strong: string } | undefined {
  const m = /cascade: ([^\s;]+) verified, escalates to ([^\s;]+)/.exec(reasons);
  return m?.[1] && m[2] ? { cheap: m[1], strong: m[2] } : undefined;
}

describe.each(MODES)("routing (%s)", (mode) => {
  let gw: Gateway;
  let client: OpenAI;
  /** The model a plain LOW request goes to while every breaker is closed. */
  let first = "";

  beforeAll(async () => {
    gw = await startGateway(mode, { config });
    client = sdkClient(gw.url, await gw.createKey("acme"));
    first = (await ask(client, { messages: user(fresh(LOW_PROMPT)) })).h("x-llmgw-model");
  }, 30_000);

  afterAll(async () => {
    await gw?.stop();
  });

  it("a tool-calling request goes to an AGENTIC model", async () => {
    const before = gw.sim.stats();
    const a = await ask(client, { messages: user(fresh("What is the weather in Paris right now?")), tools: [weatherTool] });
    const model = a.h("x-llmgw-model");
    expect(a.h("x-llmgw-tier")).toBe("AGENTIC");
    expect(AGENTIC).toContain(model);
    expect(seen(gw.sim.stats(), model) - seen(before, model)).toBe(1);
    expect(a.data.choices[0]?.finish_reason).toBe("tool_calls");
    expect(a.data.choices[0]?.message.tool_calls?.[0]).toMatchObject({ type: "function", function: { name: "get_weather" } });
  });

  it("a prompt longer than the cheap model's context goes to a model that fits", async () => {
    // Small talk (LOW) of ~8.6k tokens: over small-8k's 8192-token window.
    const before = gw.sim.stats();
    const a = await ask(client, { messages: user(fresh("hi ".repeat(8_600))) });
    const model = a.h("x-llmgw-model");
    expect(a.h("x-llmgw-tier")).toBe("LOW");
    expect(LOW[0]).toBe(SMALL_MODEL); // the test means something only while small-8k is LOW's first choice
    expect(model).not.toBe(SMALL_MODEL);
    expect(LOW).toContain(model);
    expect(a.h("x-llmgw-route-reasons")).toContain(`${SMALL_MODEL}: context 8192`);
    const after = gw.sim.stats();
    expect(seen(after, SMALL_MODEL) - seen(before, SMALL_MODEL)).toBe(0);
    expect(seen(after, model) - seen(before, model)).toBe(1);
  });

  it("a 429 from the first candidate is retried, then the next candidate answers", async () => {
    expect(LOW).toContain(first);
    const before = gw.sim.stats();
    gw.sim.addFault({ model: first, status: 429, count: MAX_RETRIES + 1 });
    try {
      const a = await ask(client, { messages: user(fresh(LOW_PROMPT)) });
      const model = a.h("x-llmgw-model");
      expect(model).not.toBe(first);
      expect(LOW).toContain(model);
      const after = gw.sim.stats();
      expect(seen(after, first) - seen(before, first)).toBe(1 + MAX_RETRIES); // first try + retries
      expect(seen(after, model) - seen(before, model)).toBe(1);
    } finally {
      gw.sim.clearFaults();
    }
  });

  it("an open breaker is skipped, then re-probed after the half-open wait", async () => {
    // The previous test may have left the first candidate's breaker open: wait until it serves again.
    const servedByFirst = async () => {
      const a = await ask(client, { messages: user(fresh(LOW_PROMPT)) });
      return a.h("x-llmgw-model") === first ? a : undefined;
    };
    expect(await until(servedByFirst, 60, 100)).toBeDefined();

    // Every attempt of one request fails: BREAKER_FAILURES consecutive failures open the breaker.
    gw.sim.addFault({ model: first, status: 503, count: BREAKER_FAILURES });
    let base = gw.sim.stats();
    const tripped = await ask(client, { messages: user(fresh(LOW_PROMPT)) });
    expect(tripped.h("x-llmgw-model")).not.toBe(first);
    expect(seen(gw.sim.stats(), first) - seen(base, first)).toBe(BREAKER_FAILURES);
    gw.sim.clearFaults(); // the provider is healthy again; only the breaker keeps it out

    // While open: answered by another model, and the first one gets no request at all.
    base = gw.sim.stats();
    const skipped = await ask(client, { messages: user(fresh(LOW_PROMPT)) });
    expect(skipped.h("x-llmgw-model")).not.toBe(first);
    expect(LOW).toContain(skipped.h("x-llmgw-model"));
    expect(seen(gw.sim.stats(), first) - seen(base, first)).toBe(0);

    // After the half-open wait (plus the router's health poll) one request probes it; it succeeds and
    // the model is used again. Exactly one simulator request reached it: the probe that answered.
    const probe = await until(servedByFirst, 60, 100);
    expect(probe).toBeDefined();
    expect(seen(gw.sim.stats(), first) - seen(base, first)).toBe(1);
    expect(await servedByFirst()).toBeDefined(); // closed again
  });

  it("a truncated cheap answer is escalated; a good one is not", async () => {
    const before = gw.sim.stats();
    const bad = await ask(client, { messages: user(fresh(`${MEDIUM_PROMPT} [sim:truncate]`)) });
    expect(bad.h("x-llmgw-tier")).toBe("MEDIUM");
    const pair = cascadePair(bad.h("x-llmgw-route-reasons"));
    expect(pair, bad.h("x-llmgw-route-reasons")).toBeDefined();
    const { cheap, strong } = pair ?? { cheap: "", strong: "" };
    expect(bad.h("x-llmgw-model")).toBe(strong);
    expect(bad.data.model).toBe(strong);
    expect(bad.h("x-llmgw-route-reasons")).toMatch(/escalated: .*truncated/);
    let after = gw.sim.stats();
    expect(seen(after, cheap) - seen(before, cheap)).toBe(1);
    expect(seen(after, strong) - seen(before, strong)).toBe(1);

    // A weak model's hedging answer on a hard prompt is escalated too, and the strong model answers well.
    const hard = await ask(client, { messages: user(fresh(`${MEDIUM_PROMPT} [sim:hard]`)) });
    expect(hard.h("x-llmgw-model")).toBe(strong);
    expect(hard.h("x-llmgw-route-reasons")).toMatch(/escalated: .*hedging/);
    expect(hard.data.choices[0]?.finish_reason).toBe("stop");

    const beforeGood = gw.sim.stats();
    const good = await ask(client, { messages: user(fresh(MEDIUM_PROMPT)) });
    expect(good.h("x-llmgw-tier")).toBe("MEDIUM");
    expect(good.h("x-llmgw-model")).toBe(cheap);
    expect(good.h("x-llmgw-route-reasons")).not.toContain("escalated");
    after = gw.sim.stats();
    expect(seen(after, cheap) - seen(beforeGood, cheap)).toBe(1);
    expect(seen(after, strong) - seen(beforeGood, strong)).toBe(0);
  });

  it("a conversation never drops a tier", async () => {
    const session = { "x-llmgw-session-id": `s-${randomUUID()}` };
    const hard = await ask(client, { messages: user(fresh(HIGH_PROMPT)) }, session);
    expect(hard.h("x-llmgw-tier")).toBe("HIGH");
    const trivial = await ask(client, { messages: user(fresh("thanks")) }, session);
    expect(trivial.h("x-llmgw-tier")).toBe("HIGH");
    expect(trivial.h("x-llmgw-route-reasons")).toContain("session stays at HIGH");
    expect(tiers.HIGH).toContain(trivial.h("x-llmgw-model"));
    // Control: the same trivial message outside the session is LOW.
    const alone = await ask(client, { messages: user(fresh("thanks")) });
    expect(alone.h("x-llmgw-tier")).toBe("LOW");
  });
});
