// Child process for the batch kill test (batches-kill.test.ts): the embedded gateway on a PGlite data
// directory on disk, pointed at a simulator the test runs, with fast batch polling. The test SIGKILLs it
// mid-batch and starts it again on the same directory. Settings come from the environment (set by the test):
//   LLMGW_KILL_DIR   PGlite data directory      LLMGW_KILL_SIM   simulator base URL
//   LLMGW_KILL_PORT  port to listen on           LLMGW_KILL_TENANT  when set, a key for this tenant is created
//   LLMGW_KILL_AT    "<step>" : the process SIGKILLs itself the first time it has just done that step
// Prints {"ready":true,"url","tenantKey"?} once listening, then one {"step"} line as each of the worker's
// writes returns (stdout to a pipe is synchronous on Linux, so a line is out before the next step starts):
//   lines:<states>   a batch_lines write (states joined by ","), job:<status>   a batch status change,
//   createBatch      a provider batch created (its sub-batch not yet recorded "submitted").
// A clean stop on SIGTERM (used only at the end).
import { silentLogger } from "#libs/log/logger.ts";
import { startEmbedded } from "#services/embedded/compose.ts";
import { testConfig } from "../harness.ts";

const env = process.env;
// The same fast polling as support/batches.ts's batchTestConfig (not imported: it pulls in vitest).
const config = testConfig((c) => {
  c.batches.poll_min_ms = 50;
  c.batches.poll_max_ms = 200;
  // A killed holder's lease must lapse soon: the restarted process is a new holder.
  c.batches.lease_ttl_ms = 1_000;
});
const gw = await startEmbedded({
  port: Number(env.LLMGW_KILL_PORT ?? 0),
  host: "127.0.0.1",
  dataDir: env.LLMGW_KILL_DIR ?? "memory",
  simulatorUrl: env.LLMGW_KILL_SIM ?? "",
  config,
  env: { LLMGW_API_KEY: "llmgw-batch-kill-admin-0123456789" },
  logger: silentLogger(),
});
const tenant = env.LLMGW_KILL_TENANT;
const tenantKey = tenant ? (await gw.clients.ledger.createKey({ tenantId: tenant, name: "e2e", admin: false })).key : undefined;

const killAt = env.LLMGW_KILL_AT;
const step = (name: string): void => {
  console.log(JSON.stringify({ step: name }));
  if (name === killAt) process.kill(process.pid, "SIGKILL");
};
// The worker reaches the ledger and executor through these same client objects.
const { ledger, executor } = gw.clients;
const updateLines = ledger.updateBatchLines.bind(ledger);
ledger.updateBatchLines = async (req, opts) => {
  const res = await updateLines(req, opts);
  step(`lines:${[...new Set((req.lines ?? []).map((l) => l.state))].sort().join(",")}`);
  return res;
};
const updateJob = ledger.updateBatchJob.bind(ledger);
ledger.updateBatchJob = async (req, opts) => {
  const res = await updateJob(req, opts);
  if (res.updated) step(`job:${req.job?.status ?? ""}`);
  return res;
};
const createBatch = executor.createBatch.bind(executor);
executor.createBatch = async (req, opts) => {
  const res = await createBatch(req, opts);
  step("createBatch");
  return res;
};

process.on("SIGTERM", () => {
  void gw.stop().finally(() => process.exit(0));
});
console.log(JSON.stringify({ ready: true, url: gw.url, tenantKey }));
