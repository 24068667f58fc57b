// `npm start` and the image run the compiled bundles (npm run build → dist/, bin/llmgw.mjs): the
// embedded gateway from them answers a chat completion and stops cleanly on SIGTERM.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
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

  it("a mesh service's compiled entry loads only the packages its service needs", () => {
    execFileSync("npm", ["run", "build"], { stdio: "ignore" });
    // Every bundle hoists its static imports: the packages a process loads at start are those reached
    // through static imports from its entry, chunk by chunk. Dynamic imports (a table row's build, the
    // edge's build, the database) load later and only where used.
    const packagesOf = (entry: string): Set<string> => {
      const seen = new Set<string>();
      const packages = new Set<string>();
      const walk = (file: string): void => {
        if (seen.has(file)) return;
        seen.add(file);
        for (const m of readFileSync(file, "utf8").matchAll(/^(?:import|export)\s[^;]*?from\s+"([^"]+)"|^import\s+"([^"]+)"/gms)) {
          const spec = m[1] ?? m[2] ?? "";
          if (spec.startsWith(".")) walk(resolve(dirname(file), spec));
          else if (!spec.startsWith("node:")) packages.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : (spec.split("/")[0] ?? spec));
        }
      };
      walk(join("dist", entry));
      return packages;
    };
    const heavy = ["openai", "@anthropic-ai/sdk", "fastify", "pg", "node-pg-migrate"];
    for (const svc of ["router", "classifier", "cache", "evaluator"]) {
      const pkgs = packagesOf(`services/${svc}/main.mjs`);
      expect(pkgs.has("@connectrpc/connect"), svc).toBe(true); // the walk reached the shared chunks
      expect(heavy.filter((p) => pkgs.has(p)), svc).toEqual([]);
    }
  }, 60_000);
});
