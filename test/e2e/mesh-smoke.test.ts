import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { startGateway, type Gateway } from "./harness.ts";

let gw: Gateway;

beforeAll(async () => {
  // The harness removes the mesh's schema, stream and Redis keys on stop.
  gw = await startGateway("mesh");
}, 120_000);

afterAll(async () => {
  await gw?.stop();
});

describe("mesh smoke", () => {
  it("answers through every service over gRPC", async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.adminKey, maxRetries: 0 });
    const r = await client.chat.completions.create({ model: "auto", messages: [{ role: "user", content: "Hello there" }] });
    expect(r.choices[0]?.message.content).toBeTruthy();
  });
});
