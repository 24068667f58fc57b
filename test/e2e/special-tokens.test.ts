// Issue #11: the soak's 502s. Hostile chat requests whose prompt held a special token's text ("<|endoftext|>")
// reached the simulator, whose tokenizer threw on it (HTTP 500 -> the gateway's 502 upstream_error). Such text
// is ordinary text to the providers: through the gateway, on every provider and route, it is answered 200.
// Requests as the fuzz generator builds them (raw HTTP, one with the soak's long query string).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type Gateway } from "./harness.ts";
import { httpBytes, rawRequest } from "./support/raw-http.ts";

let gw: Gateway;
let port: number;
let key: string;

beforeAll(async () => {
  gw = await startGateway("embedded");
  port = Number(new URL(gw.url).port);
  key = await gw.createKey("special-tokens");
});
afterAll(async () => {
  await gw.stop();
});

const CONTENTS = ["<|endoftext|>", "<|endoftext|>".repeat(50), "before <|endoftext|> <|endofprompt|> after"];
const MODELS = ["auto", "gpt-4o-mini", "small-8k", "claude-3-5-haiku-latest"];
let n = 0;

async function post(path: string, body: unknown): Promise<{ status: number; text: string }> {
  // Cache off and a unique suffix: every request must reach the provider.
  const headers: [string, string][] = [["Authorization", `Bearer ${key}`], ["Content-Type", "application/json"], ["X-LLMGW-Cache", "off"]];
  const res = await rawRequest(port, httpBytes("POST", path, headers, Buffer.from(JSON.stringify(body), "utf8")), 30_000);
  return { status: res.status, text: res.body.toString("utf8") };
}

describe("special tokens' text in prompts (issue #11)", () => {
  it.each(MODELS.flatMap((model) => CONTENTS.map((content, i) => [model, i, content] as const)))("chat %s, content %i: 200, streamed and not", async (model, _i, content) => {
    for (const stream of [false, true]) {
      const res = await post("/v1/chat/completions", { model, messages: [{ role: "system", content }, { role: "user", content: `${content} ${n++}` }], max_tokens: 16, stream });
      expect(res.status, res.text.slice(0, 300)).toBe(200);
      if (stream) expect(res.text).toContain("data: [DONE]");
      else expect((JSON.parse(res.text) as { object: string }).object).toBe("chat.completion");
    }
  });

  it("the soak's failing shape: long query string, special tokens in the last user message", async () => {
    const res = await post(`/v1/chat/completions?x=${"y".repeat(3_000)}`, { model: "auto", messages: [{ role: "user", content: `${"<|endoftext|>".repeat(37)} ${n++}` }], max_tokens: 16 });
    expect(res.status, res.text.slice(0, 300)).toBe(200);
  });

  it("Anthropic Messages route and embeddings: 200", async () => {
    const msg = await post("/v1/messages", { model: "claude-3-5-haiku-latest", max_tokens: 16, messages: [{ role: "user", content: `<|endoftext|> ${n++}` }] });
    expect(msg.status, msg.text.slice(0, 300)).toBe(200);
    const emb = await post("/v1/embeddings", { model: "text-embedding-3-small", input: CONTENTS.map((c) => `${c} ${n++}`) });
    expect(emb.status, emb.text.slice(0, 300)).toBe(200);
  });
});
