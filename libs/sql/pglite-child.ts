// Runs a short PGlite script in a child Node process: the work's WASM memories and compiled code go
// away with the child instead of staying resident in the caller (see pglite-open.ts).
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

/**
 * Runs `script` (plain ESM JavaScript; its argv after the script is [pglite entry URL, ...args]) with
 * the given node flags; resolves when it exits 0, rejects with `what` and its stderr's tail otherwise.
 */
export function runPgliteScript(what: string, script: string, args: readonly string[], nodeFlags: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    // The package's entry, resolved from here (the child's working directory may be anywhere).
    const pglite = pathToFileURL(createRequire(import.meta.url).resolve("@electric-sql/pglite")).href;
    const child = spawn(process.execPath, [...nodeFlags, "--input-type=module", "-e", script, pglite, ...args], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4_000);
    });
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${what} failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`));
    });
  });
}
