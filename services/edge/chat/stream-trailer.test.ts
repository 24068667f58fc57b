import { describe, expect, it } from "vitest";
import type { GatewayInfo } from "./gateway-info.ts";
import { isTerminalChunk, withTrailer } from "./stream-trailer.ts";

const info: GatewayInfo = { request_id: "r", model: "m", tier: "LOW", cache: "miss", cost_usd: "0.001", baseline_usd: "0.002", savings_usd: "0.001", unpriced: false, route_reasons: [] };
const chunk = (content: string | null, finish: string | null = null) => JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta: content === null ? {} : { content }, finish_reason: finish }] });
const usage = JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 1, model: "m", choices: [], usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } });

async function* from(items: string[]): AsyncGenerator<string> {
  for (const i of items) yield i;
}
async function all(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe("withTrailer", () => {
  it("spots the chunks that end a stream", () => {
    expect(isTerminalChunk(chunk("a"))).toBe(false);
    expect(isTerminalChunk(chunk(null, "stop"))).toBe(true);
    expect(isTerminalChunk(usage)).toBe(true);
  });

  it("puts the info on the usage chunk, the last one", async () => {
    const out = await all(withTrailer(from([chunk("a"), chunk("b"), chunk(null, "stop"), usage]), async () => ({ info })));
    expect(out).toHaveLength(4);
    expect(JSON.parse(out[2] ?? "")).not.toHaveProperty("llmgw");
    expect(JSON.parse(out[3] ?? "")).toMatchObject({ usage: { total_tokens: 3 }, llmgw: info });
  });

  it("puts it on the finish chunk when there is no usage chunk", async () => {
    const out = await all(withTrailer(from([chunk("a"), chunk(null, "stop")]), async () => ({ info })));
    expect(JSON.parse(out[1] ?? "")).toMatchObject({ choices: [{ finish_reason: "stop" }], llmgw: info });
  });

  it("forwards content chunks before the run is over (only the terminal ones wait)", async () => {
    let release!: () => void;
    const ended = new Promise<void>((r) => (release = r));
    const it = withTrailer(from([chunk("a"), chunk(null, "stop")]), async () => {
      await ended;
      return { info };
    });
    const first = await it.next();
    expect(first.value).toBe(chunk("a"));
    const rest = it.next();
    release();
    expect(JSON.parse((await rest).value as string)).toHaveProperty("llmgw");
  });

  it("ends with the error, and no info, when the run failed after the first token", async () => {
    const err = JSON.stringify({ error: { message: "x", type: "server_error", param: null, code: "upstream_error" } });
    const out = await all(withTrailer(from([chunk("a")]), async () => ({ errorJson: err })));
    expect(out).toEqual([chunk("a"), err]);
  });

  it("adds a choice-less chunk when the stream had no terminal chunk", async () => {
    const out = await all(withTrailer(from([chunk("a")]), async () => ({ info })));
    expect(JSON.parse(out[1] ?? "")).toMatchObject({ object: "chat.completion.chunk", choices: [], model: "m", llmgw: info });
  });
});
