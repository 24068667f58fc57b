// The live queue end to end (issue #12 part 5): a self-hosted deployment (small-8k on the `local`
// OpenAI-compatible provider, played by the simulator) with max_concurrency 2 and max_queue 4 takes a
// burst of 30 concurrent requests through the edge with the official SDK. The server never sees more
// than 2 at once, the queue never holds more than 4, every other request is a 429 in OpenAI's shape with
// Retry-After, and the executor's metrics count exactly those refusals.
import { randomUUID } from "node:crypto";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MODES, startGateway, testConfig, type Gateway } from "./harness.ts";

const MODEL = "small-8k";
const METRICS_TOKEN = "metrics-token-for-live-queue-0123456789";
const BURST = 30;
const STREAMS = 10;

/** Executor metrics: the edge's /metrics in embedded mode (one registry), the executor's admin port in the mesh. */
async function executorMetrics(gw: Gateway): Promise<string> {
  const url = gw.mesh ? `${gw.mesh.adminUrls.executor}/metrics` : `${gw.url}/metrics`;
  const res = await fetch(url, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  expect(res.status).toBe(200);
  return res.text();
}

/** The value of `name` on the line that carries all of `labels` (others, e.g. a default service label, may be present in any order). */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    const have = new Map([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return undefined;
}

describe.each(MODES)("live queue for a self-hosted deployment (%s)", (mode) => {
  let gw: Gateway;
  let client: OpenAI;
  let anthropic: Anthropic;

  beforeAll(async () => {
    const config = testConfig((c) => {
      const m = c.models[MODEL];
      if (!m) throw new Error(`${MODEL} is not in the shipped config`);
      m.max_concurrency = 2;
      m.queue = { max_queue: 4, max_wait_ms: 10_000 };
    });
    // 300 ms per answer: the burst arrives long before the first two answers free their slots.
    gw = await startGateway(mode, { config, sim: { latencyMs: 300 }, env: { LLMGW_METRICS_TOKEN: METRICS_TOKEN } });
    // No SDK retries: the test wants to see each 429 (the SDK would honour Retry-After and try again).
    const key = await gw.createKey(`lq-${randomUUID().slice(0, 8)}`);
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0, timeout: 30_000, defaultHeaders: { "x-llmgw-cache": "off" } });
    anthropic = new Anthropic({ baseURL: gw.url, apiKey: key, maxRetries: 0, timeout: 30_000, defaultHeaders: { "x-llmgw-cache": "off" } });
  }, 120_000);

  afterAll(async () => {
    await gw?.stop();
  });

  it("holds max_concurrency and max_queue under a burst; the rest get 429 with Retry-After, counted in the metrics", async () => {
    gw.sim.resetInFlightMax();
    let depthMax = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const depth = sample(await executorMetrics(gw), "llmgw_executor_queue_depth", { model: MODEL }) ?? 0;
        depthMax = Math.max(depthMax, depth);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    const call = async (i: number): Promise<{ ok: true } | { ok: false; error: unknown }> => {
      const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [{ role: "user", content: `Say something about queues, number ${i}.` }];
      try {
        if (i < STREAMS) {
          // A stream holds its slot until its last chunk.
          const stream = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 20, stream: true });
          let text = "";
          for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
          expect(text.length).toBeGreaterThan(0);
        } else {
          const c = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 20 });
          expect(c.choices[0]?.message.content).toBeTruthy();
        }
        return { ok: true };
      } catch (error) {
        return { ok: false, error };
      }
    };
    const results = await Promise.all(Array.from({ length: BURST }, (_, i) => call(i)));
    sampling = false;
    await sampler;

    const refused = results.flatMap((r) => (r.ok ? [] : [r.error]));
    const answered = BURST - refused.length;
    // The server saw the bound and never more; the queue filled and never overflowed.
    expect(gw.sim.inFlight().max).toBe(2);
    expect(depthMax).toBeGreaterThan(0);
    expect(depthMax).toBeLessThanOrEqual(4);
    // At least the 2 running and the 4 queued were answered; the burst was far over the bound.
    expect(answered).toBeGreaterThanOrEqual(6);
    expect(refused.length).toBeGreaterThan(0);
    for (const e of refused) {
      expect(e).toBeInstanceOf(OpenAI.RateLimitError);
      const err = e as InstanceType<typeof OpenAI.RateLimitError>;
      expect(err.status).toBe(429);
      expect(err.error).toMatchObject({ type: "rate_limit_error", code: "rate_limit_exceeded", param: null, message: expect.stringMatching(/'small-8k' is at capacity \(its queue is full\)/) });
      const retryAfter = err.headers?.get("retry-after");
      expect(retryAfter).toMatch(/^\d+$/);
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    }

    const text = await executorMetrics(gw);
    expect(sample(text, "llmgw_executor_queue_rejections_total", { model: MODEL, reason: "queue_full" })).toBe(refused.length);
    expect(sample(text, "llmgw_executor_queue_wait_seconds_count", { model: MODEL, outcome: "admitted" })).toBe(answered);
    expect(sample(text, "llmgw_executor_queue_depth", { model: MODEL })).toBe(0);
    expect(sample(text, "llmgw_executor_queue_limit", { model: MODEL, bound: "queue" })).toBe(4);
    expect(sample(text, "llmgw_executor_in_flight", { model: MODEL })).toBe(0);
  }, 60_000);

  it("on the Anthropic route a refusal is Anthropic's rate_limit_error with Retry-After", async () => {
    // Fill the 2 slots and the 4 places, then one more Messages request.
    const fill = Array.from({ length: 6 }, (_, i) => client.chat.completions.create({ model: MODEL, max_tokens: 10, messages: [{ role: "user", content: `Fill the queue ${i}.` }] }));
    // Wait (bounded) until the queue is full, however slowly the machine lets them arrive.
    for (let i = 0; i < 200 && sample(await executorMetrics(gw), "llmgw_executor_queue_depth", { model: MODEL }) !== 4; i++) await new Promise((r) => setTimeout(r, 10));
    const over = await anthropic.messages.create({ model: MODEL, max_tokens: 10, messages: [{ role: "user", content: "One too many." }] }).then(
      () => null,
      (e: unknown) => e,
    );
    await Promise.all(fill);
    expect(over).toBeInstanceOf(Anthropic.RateLimitError);
    const err = over as InstanceType<typeof Anthropic.RateLimitError>;
    expect(err.error).toMatchObject({ type: "error", error: { type: "rate_limit_error", message: expect.stringMatching(/at capacity/) } });
    expect(Number(err.headers?.get("retry-after"))).toBeGreaterThanOrEqual(1);
  }, 30_000);
});

