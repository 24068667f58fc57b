import { connectNatsBus } from "#libs/bus/connect-nats.ts";
import { runServiceMain } from "#libs/server/run-main.ts";
import { buildLedgerService } from "./build.ts";

await runServiceMain("ledger", async (ctx) => {
  const nats = await connectNatsBus(ctx.env, ctx.logger, "llmgw-ledger");
  const built = await buildLedgerService(ctx, { bus: nats.bus, databaseUrl: ctx.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres" });
  // A bootstrap admin key for scripts (LLMGW_API_KEY); printed by the embedded mode, never logged here.
  if (ctx.env.LLMGW_API_KEY) await built.keys.ensureBootstrapKey(ctx.env.LLMGW_API_KEY);
  return {
    ...built,
    ready: async () => nats.connected() && (await built.ready()),
    close: async () => {
      await built.close();
      await nats.close();
    },
  };
});
