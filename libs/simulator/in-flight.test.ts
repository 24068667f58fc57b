// The simulator counts the chat calls it is answering at once (what a self-hosted server would see).
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startSimulator, type Simulator } from "./server.ts";

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ latencyMs: 400 });
});
afterAll(async () => {
  await sim.close();
});

const chat = () =>
  fetch(`${sim.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer x" },
    body: JSON.stringify({ model: "small-8k", messages: [{ role: "user", content: "hi" }] }),
  }).then((r) => r.json());

describe("simulator in-flight counter", () => {
  it("counts concurrent chat calls, not other endpoints, and drops them when answered", async () => {
    const answers = Promise.all([chat(), chat(), chat()]);
    await vi.waitFor(() => expect(sim.inFlight().current).toBe(3), { timeout: 350, interval: 5 });
    await fetch(`${sim.url}/v1/models`);
    await answers;
    await vi.waitFor(() => expect(sim.inFlight()).toEqual({ current: 0, max: 3 }));
    sim.resetInFlightMax();
    await chat();
    await vi.waitFor(() => expect(sim.inFlight()).toEqual({ current: 0, max: 1 }));
  });
});
