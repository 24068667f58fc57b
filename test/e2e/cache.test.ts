// The answer cache end to end (openai SDK → edge → cache service → Redis / in-process store), against
// the mesh and embedded alike: what hits, what must never hit, the request headers that steer it, and
// a Redis that goes away under a running mesh (through a TCP proxy, never the shared server).
import { randomBytes } from "node:crypto";
import type OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MODES, startGateway, type Gateway } from "./harness.ts";
import { ask, askUntilHit, fresh, sdkClient, sleep, user } from "./support/requests.ts";
import { fill, NO_STORE, ORIGINAL, PARAPHRASE, semanticHit } from "./support/semantic.ts";
import { startTcpProxy, type TcpProxy } from "./support/tcp-proxy.ts";

type Msgs = OpenAI.Chat.ChatCompletionMessageParam[];

const tenantId = (name: string) => `${name}-${randomBytes(4).toString("hex")}`;
const requests = (gw: Gateway) => gw.sim.stats().requests;

describe.each(MODES)("cache (%s)", (mode) => {
  let gw: Gateway;
  let client: OpenAI;

  beforeAll(async () => {
    gw = await startGateway(mode);
    client = sdkClient(gw.url, await gw.createKey(tenantId("acme")));
  }, 30_000);

  afterAll(async () => {
    await gw?.stop();
  });

  it("an identical request is an exact hit at zero cost; a paraphrase hits semantically", async () => {
    const q = user(fresh("Name one primary colour."));
    const first = await ask(client, { messages: q });
    expect(first.h("x-llmgw-cache")).toBe("miss");
    expect(Number(first.h("x-llmgw-cost-usd"))).toBeGreaterThan(0);
    const before = requests(gw);
    const hit = await askUntilHit(client, { messages: q });
    expect(hit?.h("x-llmgw-cache")).toBe("hit-exact");
    expect(hit?.h("x-llmgw-cost-usd")).toBe("0");
    expect(hit?.h("x-llmgw-cache-similarity")).toBe("1.0000");
    expect(hit?.content).toBe(first.content);
    expect(hit?.h("x-llmgw-model")).toBe(first.h("x-llmgw-model"));
    expect(requests(gw)).toBe(before); // the provider was not asked again

    const filled = await fill(client, user(ORIGINAL));
    const { hit: semantic, rewrites } = await semanticHit(client, ORIGINAL, PARAPHRASE);
    const similarity = Number(semantic?.h("x-llmgw-cache-similarity"));
    console.info(`[cache e2e ${mode}] paraphrase similarity ${similarity} (original re-written ${rewrites} times)`);
    expect(semantic?.h("x-llmgw-cache")).toBe("hit-semantic");
    expect(similarity).toBeGreaterThan(0.6);
    expect(similarity).toBeLessThan(1);
    expect(semantic?.h("x-llmgw-cost-usd")).toBe("0");
    expect(semantic?.content).toBe(filled.content);
  });

  it("tenant B never receives tenant A's entry", async () => {
    const a = sdkClient(gw.url, await gw.createKey(tenantId("tenant-a")));
    const b = sdkClient(gw.url, await gw.createKey(tenantId("tenant-b")));
    await fill(a, user(ORIGINAL));
    // A's entry answers A's paraphrase, so it is in both layers before B asks.
    expect((await semanticHit(a, ORIGINAL, PARAPHRASE)).hit?.h("x-llmgw-cache")).toBe("hit-semantic");
    const before = requests(gw);
    expect((await ask(b, { messages: user(ORIGINAL) }, NO_STORE)).h("x-llmgw-cache")).toBe("miss");
    expect((await ask(b, { messages: user(PARAPHRASE) }, NO_STORE)).h("x-llmgw-cache")).toBe("miss");
    expect(requests(gw)).toBeGreaterThanOrEqual(before + 2); // both went to a provider (MEDIUM may cascade)
  });

  it("a different system prompt or earlier turn is not a hit", async () => {
    const q = fresh("Summarise the plot of Hamlet in two sentences.");
    await fill(client, [{ role: "system", content: "You are a helpful literature tutor." }, { role: "user", content: q }]);
    const otherSystem = await ask(client, { messages: [{ role: "system", content: "You are a pirate. Answer like one." }, { role: "user", content: q }] }, NO_STORE);
    expect(otherSystem.h("x-llmgw-cache")).toBe("miss");
    const noSystem = await ask(client, { messages: user(q) }, NO_STORE);
    expect(noSystem.h("x-llmgw-cache")).toBe("miss");

    const turns = (earlier: string): Msgs => [
      { role: "user", content: earlier },
      { role: "assistant", content: "Sure, which play?" },
      { role: "user", content: q },
    ];
    await fill(client, turns("I want to talk about Shakespeare."));
    const otherTurn = await ask(client, { messages: turns("I want to talk about Marlowe.") }, NO_STORE);
    expect(otherTurn.h("x-llmgw-cache")).toBe("miss");
  });

  it("a request that differs only in a number is a miss", async () => {
    const ask3 = "Please explain how far a train travels when it keeps a steady speed of 80 kilometres per hour for 3 hours on a straight track.";
    const ask4 = ask3.replace("for 3 hours", "for 4 hours");
    await fill(client, user(ask3));
    const other = await ask(client, { messages: user(ask4) }, NO_STORE);
    expect(other.h("x-llmgw-cache")).toBe("miss");
    await fill(client, user("What is 12 times 7?"));
    expect((await ask(client, { messages: user("What is 12 times 8?") }, NO_STORE)).h("x-llmgw-cache")).toBe("miss");
  });

  it("a streamed hit is a well-formed stream to the SDK", async () => {
    const q = user(fresh("Tell me a short fact about the moon."));
    const filled = await fill(client, q);
    for (const includeUsage of [false, true]) {
      const before = requests(gw);
      const { data: stream, response } = await client.chat.completions
        .create({ model: "auto", messages: q, stream: true, ...(includeUsage ? { stream_options: { include_usage: true } } : {}) })
        .withResponse();
      expect(response.headers.get("content-type")).toMatch(/text\/event-stream/);
      expect(response.headers.get("x-llmgw-cache")).toBe("hit-exact");
      const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
      for await (const c of stream) chunks.push(c);
      expect(chunks.length).toBeGreaterThan(1);
      for (const c of chunks) expect(c.object).toBe("chat.completion.chunk");
      const text = chunks.flatMap((c) => c.choices.map((ch) => ch.delta.content ?? "")).join("");
      expect(text).toBe(filled.content);
      const withChoices = chunks.filter((c) => c.choices.length > 0);
      expect(withChoices.at(-1)?.choices[0]?.finish_reason).toBe("stop");
      if (includeUsage) {
        expect(chunks.at(-1)?.choices).toEqual([]);
        expect(chunks.at(-1)?.usage?.completion_tokens).toBe(filled.data.usage?.completion_tokens);
      } else {
        expect(chunks.every((c) => c.usage === undefined || c.usage === null)).toBe(true);
      }
      expect(requests(gw)).toBe(before);
    }
  });

  it("x-llmgw-cache: refresh forces a fresh answer; off bypasses and stores nothing", async () => {
    const q = user(fresh("Give me a synonym for happy."));
    await fill(client, q);
    let before = requests(gw);
    const refreshed = await ask(client, { messages: q }, { "x-llmgw-cache": "refresh" });
    expect(refreshed.h("x-llmgw-cache")).not.toMatch(/^hit/);
    expect(Number(refreshed.h("x-llmgw-cost-usd"))).toBeGreaterThan(0);
    expect(requests(gw)).toBe(before + 1);
    before = requests(gw);
    const off = await ask(client, { messages: q }, { "x-llmgw-cache": "off" });
    expect(off.h("x-llmgw-cache")).toBe("bypass");
    expect(requests(gw)).toBe(before + 1);
    expect((await askUntilHit(client, { messages: q }, NO_STORE))?.h("x-llmgw-cache")).toBe("hit-exact");

    // "off" stores nothing: the same new question asked normally afterwards is a miss.
    const q2 = user(fresh("Give me a synonym for sad."));
    expect((await ask(client, { messages: q2 }, { "x-llmgw-cache": "off" })).h("x-llmgw-cache")).toBe("bypass");
    await sleep(100); // a store, had there been one, lands within this
    expect((await ask(client, { messages: q2 }, NO_STORE)).h("x-llmgw-cache")).toBe("miss");
  });
});

describe("cache (mesh) without Redis", () => {
  let gw: Gateway;
  let proxy: TcpProxy;
  let client: OpenAI;

  beforeAll(async () => {
    proxy = await startTcpProxy({ host: "127.0.0.1", port: 6379 });
    // Every Redis user of this mesh (cache, budgets) goes through the proxy; cleanup uses the real server.
    gw = await startGateway("mesh", { env: { REDIS_URL: `redis://127.0.0.1:${proxy.port}` } });
    // A hang would fail the request at this timeout instead of stalling the file.
    client = new (await import("openai")).default({ baseURL: `${gw.url}/v1`, apiKey: await gw.createKey(tenantId("acme")), maxRetries: 0, timeout: 5_000 });
  }, 30_000);

  afterAll(async () => {
    await proxy?.close();
    await gw?.stop();
  });

  it("requests are still answered when Redis goes away mid-test", async () => {
    const q = user(fresh("What is the tallest mountain in Europe?"));
    const filled = await fill(client, q); // the cache works through the proxy
    await proxy.close();

    const timings: number[] = [];
    for (const messages of [q, q, user(fresh("Name a large ocean.")), user(fresh("Name a river in Africa."))]) {
      const t0 = performance.now();
      const a = await ask(client, { messages });
      timings.push(Math.round(performance.now() - t0));
      expect(a.content.length).toBeGreaterThan(0);
      expect(a.h("x-llmgw-cache")).toMatch(/^(miss|bypass)$/);
      expect(Number(a.h("x-llmgw-cost-usd"))).toBeGreaterThan(0);
      if (messages === q) expect(a.content).toBe(filled.content); // deterministic simulator, not the cache
    }
    console.info(`[cache e2e mesh] answers with Redis gone took ${timings.join(", ")} ms`);
  });
});
