// `npm start`: the whole gateway in one process, no servers or keys needed.
import { readSettings } from "#libs/config/settings.ts";
import { createLogger } from "#libs/log/logger.ts";
import { startEmbedded } from "./compose.ts";

const { log } = readSettings(process.env);
const logger = createLogger("llmgw", { level: log.level, redact: !log.prompts });
try {
  const t0 = performance.now();
  const gw = await startEmbedded({ logger, env: process.env });
  const lines = [
    "",
    `  llmgw is running (embedded) at ${gw.url}   [started in ${Math.round(performance.now() - t0)} ms]`,
    gw.simulator ? `  providers without an API key are served by the bundled simulator at ${gw.simulator.url}` : "  providers: real API keys from env",
    gw.createdAdminKey
      ? `  admin API key (shown once, store it now): ${gw.createdAdminKey}`
      : "  admin API key: created on first start (or set LLMGW_API_KEY before the first start)",
    "",
    `  curl ${gw.url}/v1/chat/completions -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \\`,
    `       -d '{"model":"auto","messages":[{"role":"user","content":"Hello!"}]}'`,
    "",
  ];
  process.stdout.write(lines.join("\n") + "\n");
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "stopping");
    gw.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
} catch (e) {
  logger.fatal({ err: e instanceof Error ? e.stack ?? e.message : String(e) }, "llmgw failed to start");
  process.exit(1);
}
