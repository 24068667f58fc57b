import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { entryArgs } from "./compiled-entry.ts";

// A static import or re-export at the start of a line of esbuild's output (`import x from "m"`,
// `import { a,\n b } from "m"`, `import "m"`, `export * from "m"`); dynamic `import("m")` calls do not match.
const STATIC_IMPORT = /^(?:import|export)\s+(?:[^;"']*?\sfrom\s*)?["']([^"']+)["']/gm;

/**
 * What ESM evaluates before the entry's first statement: its static imports and theirs, across the
 * chunks. Returns the package specifiers met and the text of every file of ours in that graph.
 */
function staticGraph(file: string, seen = new Set<string>(), out = { packages: new Set<string>(), text: "" }): typeof out {
  if (seen.has(file)) return out;
  seen.add(file);
  const src = readFileSync(file, "utf8");
  out.text += src;
  for (const m of src.matchAll(STATIC_IMPORT)) {
    const spec = m[1]!;
    if (spec.startsWith(".")) staticGraph(resolve(dirname(file), spec), seen, out);
    else out.packages.add(spec);
  }
  return out;
}

describe("compiled bench children", () => {
  // The heap policy must run before the gateway's packages load, as bin/llmgw.mjs does for `npm start`:
  // in one bundle esbuild hoisted ~165 import statements above it (see compiled-entry.ts).
  it.each(["test/bench/serve-embedded.ts", "test/bench/serve-mesh.ts"])("%s loads only Node's built-ins before its heap policy", (entry) => {
    const [out] = entryArgs(entry, {});
    const graph = staticGraph(resolve(out!));
    expect([...graph.packages].filter((p) => !p.startsWith("node:"))).toEqual([]);
    expect(graph.text).toContain("--semi-space-growth-factor=1");
    // The gateway itself is loaded afterwards, by a dynamic import of a chunk.
    expect(readFileSync(out!, "utf8")).toMatch(/import\(["']\.\/chunks\//);
  });
});
