// Pure parts of the mesh launcher: which processes to run (one per row of the service table, then
// the edge) and with what environment.
import type { Config } from "#libs/config/schema.ts";
import { SERVICE_ORDER, SERVICES } from "#services/compose/table.ts";

export interface ProcessSpec {
  name: string;
  entry: string;
  env: Record<string, string>;
  /** URL that answers 200 once the process is ready. */
  readyUrl: string;
}

export function meshProcesses(config: Config, baseEnv: Record<string, string>, simulatorUrl: string | undefined): ProcessSpec[] {
  const env = { ...baseEnv, ...(simulatorUrl ? { LLMGW_SIMULATOR_URL: simulatorUrl } : {}) };
  const specs: ProcessSpec[] = SERVICE_ORDER.map((name) => ({
    name: SERVICES[name].dir,
    entry: `services/${SERVICES[name].dir}/main.ts`,
    env,
    readyUrl: `http://127.0.0.1:${config.services[name].admin_port}/readyz`,
  }));
  specs.push({ name: "edge", entry: "services/edge/main.ts", env, readyUrl: `http://127.0.0.1:${config.edge.port}/readyz` });
  return specs;
}
