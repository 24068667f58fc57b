// A chat stream's cost in its last chunk (the `llmgw` field), in both run modes, read with the
// official openai SDK: on the usage chunk when the client asked for usage, on the finish chunk when
// not, on a stream answered from the cache; the SDK's own parsing and its stream helper unaffected;
// and the cost equal to what the ledger then records for the request.
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GatewayTrailer as Llmgw } from "#libs/sdk/src/gateway-info.ts";
import { MODES, startGateway, type Gateway } from "./harness.ts";

type Chunk = OpenAI.Chat.ChatCompletionChunk & { llmgw?: Llmgw };

/** gpt-4o-mini list prices (USD per token), typed by hand. */
const MINI = { input: 0.15 / 1e6, output: 0.6 / 1e6 };

async function collect(stream: AsyncIterable<OpenAI.Chat.ChatCompletionChunk>): Promise<{ chunks: Chunk[]; text: string }> {
  const chunks: Chunk[] = [];
  let text = "";
  for await (const c of stream) {
    chunks.push(c as Chunk);
    text += c.choices[0]?.delta.content ?? "";
  }
  return { chunks, text };
}

async function tenantCost(gw: Gateway, key: string, n: number): Promise<number> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const res = await fetch(`${gw.url}/v1/llmgw/spend?since=1h`, { headers: { authorization: `Bearer ${key}` } });
    const s = (await res.json()) as { total: { requests: number; cost_usd: number } };
    if (s.total.requests >= n || Date.now() > deadline) return s.total.cost_usd;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.each(MODES)("stream cost in the last chunk (%s)", (mode) => {
  let gw: Gateway;

  beforeAll(async () => {
    gw = await startGateway(mode);
  }, 120_000);
  afterAll(async () => {
    await gw?.stop();
  });

  const clientFor = async (name: string, headers: Record<string, string> = {}) =>
    new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: await gw.createKey(`${name}-${mode}-${Date.now()}`), maxRetries: 0, defaultHeaders: headers });

  it("rides on the usage chunk, prices the usage the client saw, and matches the ledger", async () => {
    const client = await clientFor("sc-usage", { "x-llmgw-cache": "off" });
    const { data, response } = await client.chat.completions.create({ model: "gpt-4o-mini", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "Name three rivers in Europe." }] }).withResponse();
    const { chunks, text } = await collect(data);
    expect(text.length).toBeGreaterThan(0);
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    const usage = last?.usage;
    expect(usage).toBeTruthy();
    const info = last?.llmgw;
    expect(info).toMatchObject({ model: "gpt-4o-mini", cache: "bypass", unpriced: false, request_id: response.headers.get("x-llmgw-request-id") });
    // Only the last chunk carries it.
    expect(chunks.slice(0, -1).every((c) => c.llmgw === undefined)).toBe(true);
    const expected = (usage?.prompt_tokens ?? 0) * MINI.input + (usage?.completion_tokens ?? 0) * MINI.output;
    expect(Number(info?.cost_usd)).toBeCloseTo(expected, 12);
    // A named model is its own baseline.
    expect(info?.baseline_usd).toBe(info?.cost_usd);
    expect(Number(info?.savings_usd)).toBe(0);
    expect(await tenantCost(gw, client.apiKey ?? "", 1)).toBeCloseTo(Number(info?.cost_usd), 12);
  }, 60_000);

  it("rides on the finish chunk without include_usage; the SDK's stream helper still assembles the answer", async () => {
    const client = await clientFor("sc-auto", { "x-llmgw-cache": "off" });
    const { chunks, text } = await collect(await client.chat.completions.create({ model: "auto", stream: true, messages: [{ role: "user", content: "Say hello to the team." }] }));
    const last = chunks.at(-1);
    expect(last?.choices[0]?.finish_reason).toBe("stop");
    expect(last?.usage ?? undefined).toBeUndefined();
    const info = last?.llmgw;
    expect(info?.tier).toBeTruthy();
    expect(Number(info?.baseline_usd)).toBeGreaterThanOrEqual(Number(info?.cost_usd));
    expect(Number(info?.savings_usd)).toBeCloseTo(Number(info?.baseline_usd) - Number(info?.cost_usd), 12);

    const helper = client.chat.completions.stream({ model: "auto", messages: [{ role: "user", content: "Say hello to the team." }] });
    let sawInfo = false;
    helper.on("chunk", (c) => {
      if ((c as Chunk).llmgw) sawInfo = true;
    });
    const final = await helper.finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe(text);
    expect(sawInfo).toBe(true);
  }, 60_000);

  it("says a cached stream cost nothing and saved the baseline; JSON answers carry the same in headers", async () => {
    const client = await clientFor("sc-cache");
    const params = { model: "auto", temperature: 0, messages: [{ role: "user" as const, content: "What is the boiling point of water at sea level in Celsius?" }] };
    const first = await client.chat.completions.create(params).withResponse();
    expect(first.response.headers.get("x-llmgw-cache")).toBe("miss");
    const baseline = Number(first.response.headers.get("x-llmgw-baseline-usd"));
    const cost = Number(first.response.headers.get("x-llmgw-cost-usd"));
    expect(Number(first.response.headers.get("x-llmgw-savings-usd"))).toBeCloseTo(baseline - cost, 12);
    // The cache store is after the answer: wait for it to land.
    let info: Llmgw | undefined;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const { chunks } = await collect(await client.chat.completions.create({ ...params, stream: true }));
      info = chunks.at(-1)?.llmgw;
      if (info?.cache === "hit_exact") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(info).toMatchObject({ cache: "hit_exact", cost_usd: "0" });
    expect(Number(info?.savings_usd)).toBeCloseTo(baseline, 12);
  }, 60_000);
});
