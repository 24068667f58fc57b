// Streams that go wrong after the first token: the status line is already 200, so the failure is
// told in-band as an OpenAI error event (the SDK raises it while iterating), and the stream still
// closes with [DONE]. A client that walks away mid-stream leaves the gateway healthy.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { MODES, startGateway, testConfig, type Gateway } from "./harness.ts";

// A paced simulator (10 tokens/s) and a 1.5 s request deadline: a 400-token answer is cut mid-stream.
const TPS = 10;
const DEADLINE_MS = 1_500;
const LONG = "[sim:len=400]";

describe.each(MODES)("stream failures (%s)", (mode) => {
  let gw: Gateway;
  let client: OpenAI;

  beforeAll(async () => {
    gw = await startGateway(mode, { sim: { tokensPerSecond: TPS }, config: testConfig((c) => (c.executor.total_timeout_ms = DEADLINE_MS)) });
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.adminKey, maxRetries: 0, timeout: 20_000 });
    // First requests pay one-off warm-ups (tokenizer, connections); keep them out of the timed stream.
    await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "warm up [sim:len=1]" }] });
  }, 60_000);

  afterAll(async () => {
    await gw?.stop();
  });

  it("a deadline mid-stream raises an in-band APIError in the SDK after the first chunks", async () => {
    const { data, response } = await client.chat.completions
      .create({ model: "gpt-4o-mini", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: `Tell me everything ${LONG}` }] })
      .withResponse();
    expect(response.status).toBe(200);
    let received = 0;
    let caught: unknown;
    try {
      for await (const _ of data) received++;
    } catch (e) {
      caught = e;
    }
    expect(received).toBeGreaterThan(0);
    expect(caught).toBeInstanceOf(OpenAI.APIError);
    const e = caught as InstanceType<typeof OpenAI.APIError>;
    // In-band errors have no HTTP status of their own; the body is the usual shape.
    expect(e.status).toBeUndefined();
    expect(Object.keys(e.error as object).sort()).toEqual(["code", "message", "param", "type"]);
    expect((e.error as { type: string }).type).toBe("timeout_error");
  });

  it("on the wire the error event is followed by [DONE]", async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${gw.adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", stream: true, messages: [{ role: "user", content: `Tell me more ${LONG}` }] }),
    });
    const events = (await res.text()).split("\n\n").filter((x) => x.length > 0);
    expect(events.at(-1)).toBe("data: [DONE]");
    const last = JSON.parse(events.at(-2)?.slice(6) ?? "{}") as { error?: { code: string } };
    expect(last.error?.code).toBe("timeout");
    expect(events.length).toBeGreaterThan(3);
  });

  it("a client that disconnects mid-stream leaves the gateway answering", async () => {
    const ac = new AbortController();
    const stream = await client.chat.completions.create({ model: "gpt-4o", stream: true, messages: [{ role: "user", content: `Go on and on ${LONG}` }] }, { signal: ac.signal });
    let n = 0;
    try {
      for await (const _ of stream) if (++n === 3) ac.abort();
    } catch (e) {
      // Some SDK versions raise APIUserAbortError, others end the iteration quietly.
      expect(e).toBeInstanceOf(OpenAI.APIUserAbortError);
    }
    expect(n).toBe(3);
    const r = await client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "Still there? [sim:len=3]" }] });
    expect(r.choices[0]?.message.content).toBeTruthy();
    const ready = await fetch(`${gw.url}/readyz`);
    expect(ready.status).toBe(200);
  });
});
