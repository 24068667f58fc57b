// The README's examples, run as written in both modes: the ```ts blocks in order (the mode's own
// "Connect" block first), imports replaced by the same names in scope, types stripped by esbuild.
// Their results are then checked, so an example that stops working fails here.
import { readFileSync } from "node:fs";
import { transform } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type Gateway } from "../../test/e2e/harness.ts";
import { APIUserAbortError, NotFoundError, remote } from "./src/index.ts";
import { inProcess } from "./src/in-process.ts";

const README = readFileSync(new URL("./README.md", import.meta.url), "utf8");

/** ```ts blocks by tag ("" for the plain ones). */
function blocks(): { tag: string; code: string }[] {
  return [...README.matchAll(/```ts([^\n]*)\n([\s\S]*?)```/g)].map((m) => ({ tag: (m[1] ?? "").trim(), code: m[2] ?? "" }));
}

const RESULTS = ["completion", "gateway", "haiku", "streamInfo", "response", "followUp", "respInfo", "embeddings", "embedInfo", "cancelled", "once", "created", "budgets", "spend", "savings", "dropped", "shadow", "acmeKeys"];

type AsyncFn = (...args: unknown[]) => Promise<Record<string, unknown>>;
const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (...args: string[]) => AsyncFn;

async function runReadme(mode: "remote" | "in-process", scope: Record<string, unknown>): Promise<{ results: Record<string, unknown>; logs: unknown[][] }> {
  const all = blocks();
  const chosen = [...all.filter((b) => b.tag === mode), ...all.filter((b) => b.tag === "")];
  const source = chosen.map((b) => b.code.replace(/^import .*$/gm, "")).join("\n");
  const js = (await transform(`const __run = async () => {\n${source}\nreturn { ${RESULTS.join(", ")} };\n};`, { loader: "ts" })).code;
  const logs: unknown[][] = [];
  const quiet = { log: (...a: unknown[]) => logs.push(a) };
  const names = [...Object.keys(scope), "console"];
  const fn = new AsyncFunction(...names, `${js}\nreturn __run();`);
  const results = await fn(...Object.values(scope), quiet);
  return { results, logs };
}

describe("README examples", () => {
  let gw: Gateway;
  beforeAll(async () => {
    gw = await startGateway("embedded");
  }, 120_000);
  afterAll(async () => {
    await gw?.stop();
  });

  it.each(["remote", "in-process"] as const)("run in %s mode", async (mode) => {
    const { results: r } = await runReadme(mode, { remote, inProcess, NotFoundError, APIUserAbortError, GATEWAY_URL: gw.url, API_KEY: gw.adminKey });
    const completion = r["completion"] as { choices: { message: { content: string } }[] };
    expect(completion.choices[0]?.message.content.length).toBeGreaterThan(0);
    expect(r["gateway"]).toMatchObject({ cache: expect.stringMatching(/miss|hit_exact|hit_semantic|bypass/), tier: expect.any(String), costUsd: expect.any(String) });
    expect(String(r["haiku"]).length).toBeGreaterThan(0);
    expect(r["streamInfo"]).toMatchObject({ costUsd: expect.any(String), baselineUsd: expect.any(String), savingsUsd: expect.any(String) });
    expect((r["response"] as { output_text: string }).output_text.length).toBeGreaterThan(0);
    expect((r["followUp"] as { response: { output_text: string } }).response.output_text.length).toBeGreaterThan(0);
    expect(r["respInfo"]).toMatchObject({ costUsd: expect.any(String), tier: expect.any(String) });
    expect((r["embeddings"] as { data: { embedding: number[] }[] }).data[0]?.embedding).toHaveLength(256);
    expect(r["embedInfo"]).toMatchObject({ model: "text-embedding-3-small", cache: "miss" });
    expect(r["cancelled"]).toBe(true);
    expect(r["created"]).toMatchObject({ tenant_id: "acme", key: expect.any(String) });
    expect((r["budgets"] as { data: unknown[] }).data).toContainEqual({ tenant_id: "acme", key_id: null, period: "month", soft_limit_usd: 50, hard_limit_usd: 100 });
    expect(r["spend"]).toMatchObject({ group_by: "model", total: { requests: expect.any(Number) } });
    expect(r["savings"]).toMatchObject({ by_cause: { cache_usd: expect.any(Number) } });
    expect(r["dropped"]).toMatchObject({ tenant_id: "acme" });
    expect(r["shadow"]).toMatchObject({ object: "list", data: expect.any(Array) });
    expect((r["acmeKeys"] as { data: { id: string }[] }).data.map((k) => k.id)).toContain((r["created"] as { id: string }).id);
  }, 120_000);
});
