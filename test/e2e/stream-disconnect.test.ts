// A streaming client that stops reading and goes away must not hold the provider call: before, the
// edge waited on the socket's 'drain' for good, the executor's call stayed suspended with its
// concurrency slot, and enough such clients made a deployment stop answering (seen in the soak).
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type Gateway } from "./harness.ts";

describe("a streaming client that disconnects without reading (embedded)", () => {
  let gw: Gateway;
  let key = "";
  beforeAll(async () => {
    gw = await startGateway("embedded");
    key = await gw.createKey("stream-disconnect");
  });
  afterAll(() => gw.stop());

  const inFlight = async (model: string) => (await gw.clients.executor.getHealth({})).deployments.find((d) => d.model === model)?.inFlight ?? -1;

  it.each(["/v1/chat/completions", "/v1/responses"])("%s: the provider call and its slot are released", async (path) => {
    const url = new URL(gw.url);
    const body =
      path === "/v1/responses"
        ? JSON.stringify({ model: "gpt-4o-mini", stream: true, input: "Write a very long story. [sim:len=30000]" })
        : JSON.stringify({ model: "gpt-4o-mini", stream: true, messages: [{ role: "user", content: "Write a very long story. [sim:len=30000]" }] });
    const socket = connect(Number(url.port), url.hostname);
    socket.pause(); // reads nothing: the edge's socket buffer fills and it waits for a drain
    socket.write(`POST ${path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${key}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    let busy = 0;
    for (let i = 0; i < 100 && busy === 0; i++) {
      busy = await inFlight("gpt-4o-mini");
      if (busy === 0) await new Promise((r) => setTimeout(r, 20));
    }
    expect(busy).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 300));
    socket.destroy();
    let left = busy;
    for (let i = 0; i < 100 && left > 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      left = await inFlight("gpt-4o-mini");
    }
    expect(left).toBe(0);
  });
});
