// Times the executor's provider batch path against the in-process simulator: a batch of N chat lines through
// ProviderBatches for an Anthropic (Message Batches, translated) and an OpenAI deployment. Run:
//   npx tsx test/bench/batch-providers.ts [lines=1000] [failRate=0.05]
import { startSimulator } from "#libs/simulator/server.ts";
import { ProviderBatches } from "../../services/provider-executor/batches.ts";
import type { Deployment } from "../../services/provider-executor/domain/deployments.ts";

const n = Number(process.argv[2] ?? 1000);
const failRate = Number(process.argv[3] ?? 0.05);
const sim = await startSimulator({ port: 22401, batchFailRate: failRate });
const dep = (t: "openai" | "anthropic", upstreamModel: string): Deployment => ({
  model: "bench",
  providerId: t,
  providerType: t,
  baseURL: t === "openai" ? `${sim.url}/v1` : sim.url,
  apiKey: "sim",
  upstreamModel,
  contextWindow: 200_000,
  maxOutputTokens: 256,
  capabilities: new Set(),
  maxConcurrency: 1,
  queue: null,
});
const enc = new TextEncoder();
const dec = new TextDecoder();
const input = enc.encode(
  Array.from({ length: n }, (_, i) => JSON.stringify({ custom_id: `line-${i}`, method: "POST", url: "/v1/chat/completions", body: { model: "bench", messages: [{ role: "user", content: `question number ${i} about something` }] } })).join("\n"),
);
try {
  for (const [t, upstream] of [["anthropic", "claude-3-5-haiku-latest"], ["openai", "gpt-4o-mini"]] as const) {
    for (let rep = 1; rep <= 2; rep++) {
      const b = new ProviderBatches(() => dep(t, upstream));
      const t0 = performance.now();
      const created = JSON.parse(dec.decode((await b.create({ model: "bench", inputJsonl: input, endpoint: "/v1/chat/completions", completionWindow: "24h" })).batchJson)) as { id: string };
      const t1 = performance.now();
      const got = JSON.parse(dec.decode(await b.get("bench", created.id))) as { output_file_id: string | null; error_file_id: string | null; request_counts: object };
      const t2 = performance.now();
      let bytes = 0;
      for (const f of [got.output_file_id, got.error_file_id]) if (f !== null) bytes += (await b.output("bench", f)).length;
      const t3 = performance.now();
      console.log(`${t} run ${rep}: ${JSON.stringify(got.request_counts)} create ${(t1 - t0).toFixed(0)} ms, first read (processes) ${(t2 - t1).toFixed(0)} ms, output+errors ${(t3 - t2).toFixed(0)} ms, ${bytes} bytes`);
    }
  }
} finally {
  await sim.close();
}
