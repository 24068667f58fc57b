// The engine with a live queue on one deployment, against the simulator: a refusal is a 429 with
// Retry-After recorded as skipped_queue (not retried there), another candidate takes the request when
// there is one, and an attempt's latency is the provider call's, not the wait before it.
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "#libs/config/load.ts";
import { startSimulator, type Simulator } from "#libs/simulator/server.ts";
import type { ChatRequest } from "../providers/types.ts";
import { ExecutorEngine } from "./engine.ts";
import type { ExecEvent } from "./types.ts";

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ latencyMs: 300 });
});
afterAll(async () => {
  await sim.close();
});

function engine(queue: Record<string, unknown>, maxConcurrency = 1): ExecutorEngine {
  const config = loadConfig({
    env: {},
    patch: (raw) => {
      Object.assign((raw["models"] as Record<string, Record<string, unknown>>)["small-8k"]!, { max_concurrency: maxConcurrency, queue });
    },
  });
  return new ExecutorEngine({ config, env: {}, providerBaseUrlOverride: (id) => (id === "anthropic" ? sim.url : `${sim.url}/v1`), registry: new Registry() });
}

async function run(e: ExecutorEngine, models: string[], n: number): Promise<ExecEvent> {
  const events: ExecEvent[] = [];
  const body = { model: "auto", max_tokens: 10, messages: [{ role: "user", content: `Question ${n}?` }] } as ChatRequest;
  for await (const ev of e.execute({ requestId: `r${n}`, candidates: models.map((model) => ({ model })), body, stream: false })) events.push(ev);
  const last = events.at(-1);
  if (!last) throw new Error("no events");
  return last;
}

describe("engine with a live queue", () => {
  it("refuses over the bound with a 429 and Retry-After, once, and times attempts from the slot", async () => {
    const e = engine({ max_queue: 1 });
    const [first, second, third] = await Promise.all([run(e, ["small-8k"], 1), run(e, ["small-8k"], 2), run(e, ["small-8k"], 3)]);
    expect(first?.type).toBe("summary");
    expect(second?.type).toBe("summary");
    if (third?.type !== "failure") throw new Error(`expected a failure, got ${third?.type}`);
    expect(third.error).toMatchObject({ status: 429, type: "rate_limit_error", code: "rate_limit_exceeded", retryAfterSec: 1 });
    // Not retried on the same deployment: one recorded attempt, nothing sent.
    expect(third.attempts).toEqual([expect.objectContaining({ model: "small-8k", status: "skipped_queue", errorCode: "queue_full", usage: null })]);
    // The second waited ~300 ms for the first's slot; its attempt counts only its own provider call.
    if (second?.type !== "summary") throw new Error("unreachable");
    expect(second.summary.latencyMs).toBeGreaterThanOrEqual(550);
    expect(second.summary.attempts[0]?.latencyMs).toBeLessThan(second.summary.latencyMs - 200);
  });

  it("falls back to the next candidate when the queue refuses", async () => {
    const e = engine({ max_queue: 0 });
    const [a, b] = await Promise.all([run(e, ["small-8k", "gpt-4.1-nano"], 1), run(e, ["small-8k", "gpt-4.1-nano"], 2)]);
    const models = [a, b].map((ev) => (ev?.type === "summary" ? ev.summary.model : ev?.type));
    expect(models.sort()).toEqual(["gpt-4.1-nano", "small-8k"]);
    const fellBack = [a, b].find((ev) => ev?.type === "summary" && ev.summary.model === "gpt-4.1-nano");
    if (fellBack?.type !== "summary") throw new Error("unreachable");
    expect(fellBack.summary.attempts.map((x) => `${x.model}:${x.status}`)).toEqual(["small-8k:skipped_queue", "gpt-4.1-nano:ok"]);
  });

  it("refuses a waiter after max_wait_ms", async () => {
    const e = engine({ max_queue: 4, max_wait_ms: 100 });
    const [, waiter] = await Promise.all([run(e, ["small-8k"], 1), run(e, ["small-8k"], 2)]);
    if (waiter?.type !== "failure") throw new Error(`expected a failure, got ${waiter?.type}`);
    expect(waiter.error.status).toBe(429);
    expect(waiter.error.message).toMatch(/no slot came free within its maximum wait/);
    expect(waiter.attempts[0]).toMatchObject({ status: "skipped_queue", errorCode: "wait_timeout" });
  });

  it("micro-batch waves reach the provider whole: the bulkhead behind the queue refuses none of a wave", async () => {
    const e = engine({ max_queue: 40, batch: { max_size: 20, max_age_ms: 50 } }, 20);
    sim.resetInFlightMax();
    const out = await Promise.all(Array.from({ length: 40 }, (_, i) => run(e, ["small-8k"], i)));
    expect(out.map((ev) => ev.type)).toEqual(Array.from({ length: 40 }, () => "summary"));
    expect(sim.inFlight().max).toBe(20);
  });
});
