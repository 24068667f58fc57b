// Pure parts of the mesh launcher: which processes to run and with what environment.
import type { Config } from "#libs/config/schema.ts";

export interface ProcessSpec {
  name: string;
  entry: string;
  env: Record<string, string>;
  /** URL that answers 200 once the process is ready. */
  readyUrl: string;
}

export const SERVICE_DIRS = ["provider-executor", "classifier", "cache", "router", "ledger", "evaluator"] as const;

const CONFIG_NAME: Record<(typeof SERVICE_DIRS)[number], keyof Config["services"]> = {
  "provider-executor": "executor",
  classifier: "classifier",
  cache: "cache",
  router: "router",
  ledger: "ledger",
  evaluator: "evaluator",
};

export function meshProcesses(config: Config, baseEnv: Record<string, string>, simulatorUrl: string | undefined): ProcessSpec[] {
  const env = { ...baseEnv, ...(simulatorUrl ? { LLMGW_SIMULATOR_URL: simulatorUrl } : {}) };
  const specs: ProcessSpec[] = SERVICE_DIRS.map((dir) => {
    const svc = config.services[CONFIG_NAME[dir]];
    return { name: dir, entry: `services/${dir}/main.ts`, env, readyUrl: `http://127.0.0.1:${svc.admin_port}/readyz` };
  });
  specs.push({ name: "edge", entry: "services/edge/main.ts", env, readyUrl: `http://127.0.0.1:${config.edge.port}/readyz` });
  return specs;
}
