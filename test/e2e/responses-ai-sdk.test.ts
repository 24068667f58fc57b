// The Vercel AI SDK's default OpenAI provider (`createOpenAI()(model)`) speaks the Responses API:
// generateText, streamText and a tool loop (function_call → function_call_output, the history sent
// back whole) against the embedded gateway. The wire details are covered in both modes
// by responses.test.ts with the openai SDK; this checks a client nobody here wrote.
import { createOpenAI } from "@ai-sdk/openai";
import { generateText, jsonSchema, stepCountIs, streamText, tool } from "ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type Gateway } from "./harness.ts";

describe("Vercel AI SDK default provider against /v1/responses (embedded)", () => {
  let gw: Gateway;
  let gateway: ReturnType<typeof createOpenAI>;
  /** The bodies the SDK posted, to see what it sends back for earlier steps. */
  const sent: string[] = [];

  beforeAll(async () => {
    gw = await startGateway("embedded");
    gateway = createOpenAI({
      baseURL: `${gw.url}/v1`,
      apiKey: await gw.createKey("ai-sdk"),
      fetch: async (url, init) => {
        if (typeof init?.body === "string") sent.push(init.body);
        return fetch(url, init);
      },
    });
  }, 60_000);

  afterAll(async () => {
    await gw?.stop();
  });

  it("generateText", async () => {
    const r = await generateText({ model: gateway("auto"), prompt: "What is the capital of France?", maxRetries: 0 });
    expect(r.text.length).toBeGreaterThan(0);
    expect(r.usage.inputTokens).toBeGreaterThan(0);
    expect(r.response.id).toMatch(/^resp_/);
  });

  it("streamText", async () => {
    const r = streamText({ model: gateway("gpt-4o-mini"), prompt: "Describe the sea in two sentences.", maxRetries: 0 });
    let text = "";
    for await (const t of r.textStream) text += t;
    expect(text.length).toBeGreaterThan(0);
    expect(await r.text).toBe(text);
    expect((await r.usage).outputTokens).toBeGreaterThan(0);
  });

  it("a tool loop: the model calls the tool, gets its result, answers", async () => {
    const calls: string[] = [];
    const r = await generateText({
      model: gateway("gpt-4o-mini"),
      prompt: "What's the weather in Paris today?",
      maxRetries: 0,
      tools: {
        get_weather: tool({
          description: "Get the current weather forecast for a city",
          inputSchema: jsonSchema<{ city: string }>({ type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false }),
          execute: async ({ city }) => {
            calls.push(city);
            return { city, forecast: "sunny, 24°C" };
          },
        }),
      },
      stopWhen: stepCountIs(3),
    });
    expect(calls).toHaveLength(1);
    // The second step sends the whole history back: the question, the function call and its output.
    const second = JSON.parse(sent.at(-1) ?? "{}") as { input?: Array<{ type?: string; role?: string }> };
    expect(second.input?.map((i) => i.type ?? i.role)).toEqual(["user", "function_call", "function_call_output"]);
    expect(r.steps.length).toBe(2);
    expect(r.text.length).toBeGreaterThan(0);
  });
});
