// The environment is read where a process starts (a main.ts, a CLI, a benchmark, a test) and handed
// on as settings (libs/config); service and library code never reads process.env itself.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOTS = ["libs", "services"];
/** Process entry points, and the config library whose job it is. */
const ALLOWED = [/\/main\.ts$/, /^libs\/config\//, /\/cli\//, /\/bench\//, /-bench\.ts$/, /\.test\.ts$/, /test-support\.ts$/, /^libs\/gen\//];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === "node_modules" ? [] : files(p);
    return p.endsWith(".ts") ? [p] : [];
  });
}

export function envReaders(paths: readonly string[], read: (p: string) => string): string[] {
  return paths.filter((p) => !ALLOWED.some((re) => re.test(p))).filter((p) => /\bprocess\.env\b/.test(read(p)));
}

describe("process.env", () => {
  it("is read only by process entry points and libs/config", () => {
    const all = ROOTS.flatMap(files);
    expect(all.length).toBeGreaterThan(100);
    expect(envReaders(all, (p) => readFileSync(p, "utf8"))).toEqual([]);
  });

  it("the check catches a read in service code", () => {
    const src = new Map([
      ["services/cache/store/x.ts", "const u = process.env.REDIS_URL;"],
      ["services/cache/main.ts", "await run(process.env);"],
    ]);
    expect(envReaders([...src.keys()], (p) => src.get(p) ?? "")).toEqual(["services/cache/store/x.ts"]);
  });
});
