// `npm start` and the image run the compiled bundles (npm run build → dist/, bin/llmgw.mjs): the
// embedded gateway from them answers a chat completion and stops cleanly on SIGTERM.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, describe, expect, it } from "vitest";

const dataDir = mkdtempSync(join(tmpdir(), "llmgw-compiled-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe("compiled entry points", () => {
  it("the embedded gateway built by npm run build serves a request and drains on SIGTERM", async () => {
    execFileSync("npm", ["run", "build"], { stdio: "ignore" });
    const key = "llmgw-compiled-test-key-0123456789";
    const proc = spawn(process.execPath, ["bin/llmgw.mjs", "services/embedded/main.ts"], {
      env: { PATH: process.env.PATH ?? "", PORT: "0", LLMGW_EDGE_HOST: "127.0.0.1", LLMGW_DATA_DIR: dataDir, LLMGW_API_KEY: key, LOG_LEVEL: "warn" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const url = await new Promise<string>((resolve, reject) => {
      // A first start creates the PGlite database and runs every migration: ~14 s on the loaded 2-core
      // CI machine, over 30 s with the suite running beside it. The test is about the bundles working.
      const t = setTimeout(() => reject(new Error("no start line within 90 s")), 90_000);
      createInterface({ input: proc.stdout }).on("line", (l) => {
        const m = /running \(embedded\) at (http:\/\/\S+)/.exec(l);
        if (m?.[1]) {
          clearTimeout(t);
          resolve(m[1]);
        }
      });
      proc.once("exit", (code) => reject(new Error(`exited ${String(code)} before starting`)));
    });
    const r = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: "What is the capital of France?" }] }),
    });
    expect(r.status).toBe(200);
    expect(r.headers.get("x-llmgw-model")).toBeTruthy();
    const body = (await r.json()) as { choices: { message: { content: string } }[] };
    expect(body.choices[0]?.message.content.length).toBeGreaterThan(0);
    const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
    proc.kill("SIGTERM");
    expect(await exited).toBe(0);
  }, 150_000);
});
