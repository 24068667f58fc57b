// Files the gateway ships beside its code (the classifier's artifact, the ledger's migrations) are
// found from the project root, so the same lookup works from the TypeScript sources (tsx) and from
// the bundles in dist/ (`npm run build`), whose import.meta.url is elsewhere in the tree.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let root: string | undefined;

/** The nearest folder above this module whose package.json names the gateway. */
export function projectRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: unknown }).name === "llmgw") return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error(`no llmgw package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** A shipped file by its path from the project root. */
export function projectPath(...parts: string[]): string {
  return join(projectRoot(), ...parts);
}
