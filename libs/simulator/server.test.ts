import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { startSimulator } from "./server.ts";

describe("simulator lifecycle, pacing and random errors", () => {
  it("close() ends sockets of hung [sim:timeout] requests", async () => {
    const sim = await startSimulator();
    const client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: "x", maxRetries: 0, timeout: 60_000 });
    const pending = client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "[sim:timeout] wait" }] }).catch((e: unknown) => e);
    while (sim.stats().requests === 0) await new Promise((r) => setTimeout(r, 5)); // the request is now hanging
    await sim.close();
    expect(await pending).toBeInstanceOf(OpenAI.APIConnectionError);
  });

  it("latency, [sim:slow] and tokensPerSecond pacing deliver the same content", async () => {
    const fast = await startSimulator();
    const paced = await startSimulator({ latencyMs: 5, tokensPerSecond: 2000 });
    try {
      const messages = [{ role: "user" as const, content: "[sim:len=30] [sim:slow=5] pace me" }];
      const a = new OpenAI({ baseURL: `${fast.url}/v1`, apiKey: "x", maxRetries: 0 });
      const b = new OpenAI({ baseURL: `${paced.url}/v1`, apiKey: "x", maxRetries: 0 });
      const ref = await a.chat.completions.create({ model: "gpt-4o", messages });
      let streamed = "";
      for await (const c of await b.chat.completions.create({ model: "gpt-4o", messages, stream: true })) streamed += c.choices[0]?.delta.content ?? "";
      expect(streamed).toBe(ref.choices[0]?.message.content);
      const nonStream = await b.chat.completions.create({ model: "gpt-4o", messages });
      expect(nonStream.choices[0]?.message.content).toBe(ref.choices[0]?.message.content);
    } finally {
      await fast.close();
      await paced.close();
    }
  });

  it("errorRate produces a seeded, reproducible pattern of 500s", async () => {
    const pattern = async (): Promise<string> => {
      const sim = await startSimulator({ errorRate: 0.3, seed: 7 });
      const client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: "x", maxRetries: 0 });
      let out = "";
      for (let i = 0; i < 30; i++) {
        const ok = await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: `q${i}` }] }).then(
          () => true,
          (e: unknown) => {
            if (!(e instanceof OpenAI.InternalServerError)) throw e;
            return false;
          },
        );
        out += ok ? "." : "x";
      }
      await sim.close();
      return out;
    };
    const p1 = await pattern();
    expect(p1).toContain("x");
    expect(p1).toContain(".");
    expect(await pattern()).toBe(p1);
  });

  it("custom catalogue and GET /_sim/stats", async () => {
    const sim = await startSimulator({ models: [{ id: "m1", skill: 0.5, contextWindow: 1000 }] });
    try {
      const client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: "x", maxRetries: 0 });
      await client.chat.completions.create({ model: "m1", messages: [{ role: "user", content: "hi" }] });
      await expect(client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }] })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
      const stats = (await (await fetch(`${sim.url}/_sim/stats`)).json()) as { requests: number; byModel: Record<string, number> };
      expect(stats).toEqual({ requests: 1, byModel: { m1: 1 } });
    } finally {
      await sim.close();
    }
  });
});
