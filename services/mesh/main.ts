// `npm run mesh`: every service as its own process, wired by gRPC, with NATS JetStream, Redis and
// PostgreSQL from env (defaults: this machine's local servers). Starts the provider simulator as a
// process too when a provider has no key. A process that dies is restarted (backoff); Ctrl-C or
// SIGTERM stops everything gracefully.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { loadConfig } from "#libs/config/load.ts";
import { needsSimulator, readSettings } from "#libs/config/settings.ts";
import { meshProcesses, type ProcessSpec } from "./launch.ts";
import { DEFAULT_BACKOFF, Supervisor } from "./supervisor.ts";

const config = loadConfig();
const baseEnv: Record<string, string> = {
  DATABASE_URL: "postgres://postgres@127.0.0.1:5432/postgres",
  REDIS_URL: "redis://127.0.0.1:6379",
  NATS_URL: "nats://127.0.0.1:4222",
  ...(process.env as Record<string, string>),
};
// A process that dies is restarted with backoff; the others keep serving (supervisor.ts).
const supervisor = new Supervisor(DEFAULT_BACKOFF, {
  exited: (name, code, signal, restartInMs) =>
    process.stdout.write(`[${name.padEnd(17)}] exited (${signal ?? code})${restartInMs !== undefined ? `; restarting in ${restartInMs} ms` : ""}\n`),
  restarted: (name, n) => process.stdout.write(`[${name.padEnd(17)}] restarted (${n})\n`),
});

function run(name: string, entry: string, env: Record<string, string>): void {
  supervisor.add({
    name,
    // Compiled entry points (`npm run mesh` builds them first): the mesh runs as it does in production.
    start: () => {
      const proc = spawn(process.execPath, ["bin/llmgw.mjs", entry], { env, stdio: ["ignore", "pipe", "pipe"] });
      for (const stream of [proc.stdout, proc.stderr]) {
        if (stream) createInterface({ input: stream }).on("line", (line) => process.stdout.write(`[${name.padEnd(17)}] ${line}\n`));
      }
      return proc;
    },
  });
}

async function waitReady(url: string, name: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${name} not ready at ${url} after ${timeoutMs} ms`);
}

// Only a signal to the launcher stops the mesh (never one process's death).
let stopping = false;
function stop(code: number): void {
  if (stopping) return;
  stopping = true;
  void supervisor.stop(12_000).then(() => process.exit(code));
}
process.once("SIGINT", () => stop(0));
process.once("SIGTERM", () => stop(0));

let simulatorUrl = baseEnv.LLMGW_SIMULATOR_URL;
if (!simulatorUrl && needsSimulator(config, readSettings(baseEnv, config))) {
  const port = baseEnv.SIM_PORT ?? "9999";
  simulatorUrl = `http://127.0.0.1:${port}`;
  run("simulator", "libs/simulator/main.ts", { ...baseEnv, SIM_PORT: port });
  await waitReady(`${simulatorUrl}/v1/models`, "simulator");
}

const specs: ProcessSpec[] = meshProcesses(config, baseEnv, simulatorUrl);
try {
  for (const s of specs) {
    run(s.name, s.entry, s.env);
    // Start in dependency order so each service finds its peers: executor first, edge last.
    await waitReady(s.readyUrl, s.name);
  }
  process.stdout.write(`\n  llmgw mesh is up: edge at http://127.0.0.1:${config.edge.port} (${specs.length} services${simulatorUrl ? ", simulator " + simulatorUrl : ""})\n\n`);
} catch (e) {
  process.stdout.write(`mesh failed to start: ${(e as Error).message}\n`);
  stop(1);
}
