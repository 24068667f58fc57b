import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { silentLogger } from "#libs/log/logger.ts";
import { startSimulator, type Simulator } from "#libs/simulator/server.ts";
import { startMesh, type Mesh } from "#services/mesh/compose.ts";

let sim: Simulator;
let mesh: Mesh;
let key: string;

beforeAll(async () => {
  sim = await startSimulator({ port: 0 });
  mesh = await startMesh({ simulatorUrl: sim.url, logger: silentLogger(), env: {} });
  key = (await mesh.ledger.keys.create({ tenantId: "acme", admin: true })).key;
}, 120_000);

afterAll(async () => {
  await mesh?.stop();
  await sim?.close();
});

describe("mesh smoke", () => {
  it("answers through every service over gRPC", async () => {
    const client = new OpenAI({ baseURL: `${mesh.url}/v1`, apiKey: key, maxRetries: 0 });
    const r = await client.chat.completions.create({ model: "auto", messages: [{ role: "user", content: "Hello there" }] });
    expect(r.choices[0]?.message.content).toBeTruthy();
  });
});
