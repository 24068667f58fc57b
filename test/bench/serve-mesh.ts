// Child process for the `mesh` in-process variant: every service behind its own real gRPC server on
// loopback, with real NATS JetStream, Redis and PostgreSQL, but all in this ONE Node process (so on
// 2 cores it is the pessimistic case). Prints {url, key} when ready; on SIGTERM stops and removes
// its NATS stream, Redis keys and ledger schema.
import { applyHeapPolicy } from "../../bin/heap-policy.mjs";

// As bin/llmgw.mjs runs every production process: the heap policy first, then the gateway's modules.
applyHeapPolicy();
const { silentLogger } = await import("#libs/log/logger.ts");
const { startMesh } = await import("#services/mesh/compose.ts");
const { installProfilerSignal } = await import("./profiler-signal.ts");

const simulatorUrl = process.env.BENCH_SIM_URL;
if (!simulatorUrl) throw new Error("BENCH_SIM_URL is required");
const databaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

const mesh = await startMesh({ simulatorUrl, logger: silentLogger(), env: {}, databaseUrl });
const key = (await mesh.ledger.keys.create({ tenantId: "bench", admin: true })).key;
console.log(JSON.stringify({ url: mesh.url, key }));

async function cleanup(): Promise<void> {
  await mesh.stop();
  await mesh.purge();
}

installProfilerSignal();

let stopping = false;
process.on("SIGTERM", () => {
  if (stopping) return;
  stopping = true;
  void cleanup()
    .catch((e: unknown) => console.error(`mesh cleanup failed: ${String(e)}`))
    .finally(() => process.exit(0));
});
