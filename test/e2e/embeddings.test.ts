// POST /v1/embeddings end to end in both run modes, through the official openai SDK: string, array
// and token inputs, dimensions, base64, the exact cache per tenant, the ledger's cost at the
// embedding price (typed here by hand: text-embedding-3-small is $0.02 per 1M input tokens), budget
// refusal, and OpenAI-shaped errors that name their param.
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MODES, startGateway, type Gateway } from "./harness.ts";

const MODEL = "text-embedding-3-small";
/** USD per input token, from OpenAI's price list ($0.02 / 1M). */
const USD_PER_TOKEN = 0.02 / 1_000_000;

interface Spend {
  total: { requests: number; cost_usd: number; baseline_usd: number; savings_usd: number };
}

async function spend(gw: Gateway, key: string): Promise<Spend> {
  const res = await fetch(`${gw.url}/v1/llmgw/spend?since=1h`, { headers: { authorization: `Bearer ${key}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as Spend;
}

/** The ledger consumes events asynchronously: poll the tenant's report until it has `n` requests. */
async function spendAfter(gw: Gateway, key: string, n: number): Promise<Spend> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const s = await spend(gw, key);
    if (s.total.requests >= n || Date.now() > deadline) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function rawPost(gw: Gateway, key: string, body: unknown): Promise<{ status: number; json: { error?: { param: string | null; code: string | null; type: string; message: string } } }> {
  const res = await fetch(`${gw.url}/v1/embeddings`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as { error?: { param: string | null; code: string | null; type: string; message: string } } };
}

function norm(v: readonly number[]): number {
  return Math.sqrt(v.reduce((s, x) => s + x * x, 0));
}

describe.each(MODES)("embeddings (%s)", (mode) => {
  let gw: Gateway;
  let key: string;
  let client: OpenAI;

  beforeAll(async () => {
    gw = await startGateway(mode);
    key = await gw.createKey(`emb-${mode}-${Date.now()}`);
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
  }, 120_000);

  afterAll(async () => {
    await gw?.stop();
  });

  it("embeds a string and an array, with dimensions and base64, caches repeats and bills the ledger at the embedding price", async () => {
    const before = gw.sim.stats().byModel[MODEL] ?? 0;
    // Every call's outcome, for the money check at the end.
    const seen: { cache: string | null; tokens: number }[] = [];
    const create = async (params: OpenAI.EmbeddingCreateParams) => {
      const r = await client.embeddings.create(params).withResponse();
      seen.push({ cache: r.response.headers.get("x-llmgw-cache"), tokens: r.data.usage.prompt_tokens });
      return r;
    };
    // The cache store follows the answer (the client does not wait for it): repeat until it has landed.
    const untilHit = async (params: OpenAI.EmbeddingCreateParams) => {
      for (let i = 0; ; i++) {
        const r = await create(params);
        if (r.response.headers.get("x-llmgw-cache") === "hit-exact" || i === 50) return r;
        expect(r.response.headers.get("x-llmgw-cache")).toBe("miss");
        await new Promise((res) => setTimeout(res, 100));
      }
    };

    // The SDK asks for base64 by default and decodes it: the float32 values arrive intact.
    const one = await create({ model: MODEL, input: "What is the capital of France?" });
    expect(one.data.data).toHaveLength(1);
    expect(one.data.data[0]?.embedding).toHaveLength(1536);
    expect(norm(one.data.data[0]?.embedding ?? [])).toBeCloseTo(1, 4);
    expect(one.data.model).toBe(MODEL);
    expect(one.response.headers.get("x-llmgw-model")).toBe(MODEL);
    expect(one.response.headers.get("x-llmgw-cache")).toBe("miss");
    const tokensOne = one.data.usage.prompt_tokens;
    expect(tokensOne).toBeGreaterThan(0);
    expect(Number(one.response.headers.get("x-llmgw-cost-usd"))).toBeCloseTo(tokensOne * USD_PER_TOKEN, 15);

    // Explicit float: a JSON number array, the same vector.
    const asFloat = await untilHit({ model: MODEL, input: "What is the capital of France?", encoding_format: "float" });
    expect(asFloat.response.headers.get("x-llmgw-cache")).toBe("hit-exact");
    expect(asFloat.data.data[0]?.embedding).toEqual(one.data.data[0]?.embedding);

    const many = await create({ model: MODEL, input: ["capital of France", "How do I bake bread?", "capital of France"] });
    expect(many.data.data.map((d) => d.index)).toEqual([0, 1, 2]);
    const [a, b, c] = many.data.data.map((d) => d.embedding);
    expect(a).toEqual(c);
    expect(a).not.toEqual(b);

    const small = await create({ model: MODEL, input: "capital of France", dimensions: 256 });
    expect(small.data.data[0]?.embedding).toHaveLength(256);
    expect(small.response.headers.get("x-llmgw-cache")).toBe("miss"); // other dimensions, other key

    // base64 asked for explicitly: the string as OpenAI sends it (little-endian float32).
    const b64 = await untilHit({ model: MODEL, input: "capital of France", dimensions: 256, encoding_format: "base64" });
    expect(b64.response.headers.get("x-llmgw-cache")).toBe("hit-exact");
    const text = b64.data.data[0]?.embedding as unknown as string;
    expect(typeof text).toBe("string");
    const buf = Buffer.from(text, "base64");
    expect(Array.from(new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4))).toEqual(small.data.data[0]?.embedding);

    // Token ids are an input too.
    const toks = await create({ model: MODEL, input: [[1820, 374, 264], [15339, 1917]] });
    expect(toks.data.data).toHaveLength(2);

    // The repeat of the first call is a hit: no provider call, zero cost, the full price saved.
    const again = await create({ model: MODEL, input: "What is the capital of France?" });
    expect(again.response.headers.get("x-llmgw-cache")).toBe("hit-exact");
    expect(again.response.headers.get("x-llmgw-cost-usd")).toBe("0");
    expect(Number(again.response.headers.get("x-llmgw-savings-usd"))).toBeCloseTo(tokensOne * USD_PER_TOKEN, 15);
    expect(again.data.data[0]?.embedding).toEqual(one.data.data[0]?.embedding);

    // Every miss called the provider once, every hit never; misses are billed, hits saved their price.
    const misses = seen.filter((x) => x.cache === "miss");
    const hits = seen.filter((x) => x.cache === "hit-exact");
    expect(misses.length + hits.length).toBe(seen.length);
    expect(hits.length).toBe(3);
    expect((gw.sim.stats().byModel[MODEL] ?? 0) - before).toBe(misses.length);
    const s = await spendAfter(gw, key, seen.length);
    expect(s.total.requests).toBe(seen.length);
    expect(s.total.cost_usd).toBeCloseTo(misses.reduce((t, x) => t + x.tokens, 0) * USD_PER_TOKEN, 15);
    expect(s.total.savings_usd).toBeCloseTo(hits.reduce((t, x) => t + x.tokens, 0) * USD_PER_TOKEN, 15);
    expect(s.total.savings_usd).toBeCloseTo((2 * tokensOne + small.data.usage.prompt_tokens) * USD_PER_TOKEN, 15);
  }, 60_000);

  it("keeps tenants' caches apart and honours x-llmgw-cache: off", async () => {
    const other = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: await gw.createKey(`emb-other-${mode}-${Date.now()}`), maxRetries: 0 });
    const input = "tenant isolation check sentence";
    const first = await client.embeddings.create({ model: MODEL, input }).withResponse();
    expect(first.response.headers.get("x-llmgw-cache")).toBe("miss");
    const theirs = await other.embeddings.create({ model: MODEL, input }).withResponse();
    expect(theirs.response.headers.get("x-llmgw-cache")).toBe("miss");
    const off = await client.embeddings.create({ model: MODEL, input }, { headers: { "x-llmgw-cache": "off" } }).withResponse();
    expect(off.response.headers.get("x-llmgw-cache")).toBe("bypass");
  }, 60_000);

  it("refuses past the budget's hard limit with 429 and bills nothing", async () => {
    const tenant = `emb-budget-${mode}-${Date.now()}`;
    const tkey = await gw.createKey(tenant);
    const put = await fetch(`${gw.url}/v1/llmgw/budgets`, {
      method: "PUT",
      headers: { authorization: `Bearer ${gw.adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ tenant_id: tenant, period: "day", hard_limit_usd: "0.000000001" }),
    });
    expect(put.status).toBe(200);
    const c = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: tkey, maxRetries: 0 });
    const before = gw.sim.stats().byModel[MODEL] ?? 0;
    const err = await c.embeddings.create({ model: MODEL, input: "a sentence that costs more than a nano-dollar to embed" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect((err as InstanceType<typeof OpenAI.RateLimitError>).code).toBe("insufficient_quota");
    expect(gw.sim.stats().byModel[MODEL] ?? 0).toBe(before);
  }, 60_000);

  it("answers bad requests with OpenAI errors naming the param", async () => {
    const cases: { body: unknown; status: number; param: string | null }[] = [
      { body: { model: MODEL }, status: 400, param: "input" },
      { body: { model: MODEL, input: "" }, status: 400, param: "input" },
      { body: { model: MODEL, input: [] }, status: 400, param: "input" },
      { body: { model: MODEL, input: ["ok", 3] }, status: 400, param: "input" },
      { body: { model: MODEL, input: "x", dimensions: 0 }, status: 400, param: "dimensions" },
      // Past the model's native size (1,536 for text-embedding-3-small).
      { body: { model: MODEL, input: "x", dimensions: 5000 }, status: 400, param: "dimensions" },
      { body: { model: MODEL, input: "x", encoding_format: "int8" }, status: 400, param: "encoding_format" },
      { body: { model: MODEL, input: "x", temperature: 1 }, status: 400, param: "temperature" },
      { body: { input: "x" }, status: 400, param: "model" },
      { body: { model: "auto", input: "x" }, status: 400, param: "model" },
      { body: { model: "gpt-4o-mini", input: "x" }, status: 400, param: "model" },
      { body: { model: "no-such-embedder", input: "x" }, status: 404, param: "model" },
    ];
    for (const c of cases) {
      const r = await rawPost(gw, key, c.body);
      expect({ body: c.body, status: r.status, param: r.json.error?.param }).toEqual({ body: c.body, status: c.status, param: c.param });
    }
    // Through the SDK: its own classes.
    await expect(client.embeddings.create({ model: "no-such-embedder", input: "x" })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const bad = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "sk-wrong", maxRetries: 0 });
    await expect(bad.embeddings.create({ model: MODEL, input: "x" })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    // And chat refuses an embedding model.
    await expect(client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "hi" }] })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
  }, 60_000);
});
