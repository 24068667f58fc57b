// Loads deploy/config/llmgw.yaml (or LLMGW_CONFIG), applies the explicit env-override table,
// validates, and fails fast naming the bad key.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parse } from "yaml";
import { SERVICE_NAMES } from "#libs/rpc/service-clients.ts";
import { configSchema, type Config } from "./schema.ts";

export const DEFAULT_CONFIG_PATH = "deploy/config/llmgw.yaml";

/** env var → config path. Only these are read; everything else comes from the file. */
export const ENV_OVERRIDES: ReadonlyArray<{ env: string; path: string[]; type: "number" | "string" }> = [
  { env: "PORT", path: ["edge", "port"], type: "number" },
  { env: "LLMGW_EDGE_HOST", path: ["edge", "host"], type: "string" },
  { env: "LLMGW_SHADOW_SAMPLE_RATE", path: ["routing", "shadow", "sample_rate"], type: "number" },
  // Where clients dial each service in the mesh: LLMGW_<NAME>_ADDR for every service of the table.
  ...SERVICE_NAMES.map((name) => ({ env: `LLMGW_${name.toUpperCase()}_ADDR`, path: ["services", name, "address"], type: "string" as const })),
];

export class ConfigError extends Error {
  override name = "ConfigError";
}

export function loadConfig(opts: { path?: string; env?: NodeJS.ProcessEnv; patch?: (raw: Record<string, unknown>) => void } = {}): Config {
  const env = opts.env ?? process.env;
  const path = resolve(opts.path ?? env.LLMGW_CONFIG ?? DEFAULT_CONFIG_PATH);
  let raw: unknown;
  try {
    raw = parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new ConfigError(`cannot read config ${path}: ${(e as Error).message}`);
  }
  if (typeof raw !== "object" || raw === null) throw new ConfigError(`config ${path} is not a YAML mapping`);
  const obj = raw as Record<string, unknown>;
  applyEnvOverrides(obj, env);
  opts.patch?.(obj);
  return parseConfig(obj, path);
}

export function parseConfig(raw: unknown, source = "<inline>"): Config {
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join(".") || "<root>"}: ${i.message}`);
    throw new ConfigError(`invalid config ${source}:\n${lines.join("\n")}`);
  }
  return result.data;
}

function applyEnvOverrides(obj: Record<string, unknown>, env: NodeJS.ProcessEnv): void {
  for (const o of ENV_OVERRIDES) {
    const v = env[o.env];
    if (v === undefined || v === "") continue;
    const value = o.type === "number" ? Number(v) : v;
    if (o.type === "number" && !Number.isFinite(value)) throw new ConfigError(`${o.env}=${v} is not a number`);
    setPath(obj, o.path, value);
  }
}

function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let cur: Record<string, unknown> = obj;
  for (const key of path.slice(0, -1)) {
    const next = cur[key];
    if (typeof next !== "object" || next === null) cur[key] = {};
    cur = cur[key] as Record<string, unknown>;
  }
  cur[path[path.length - 1] as string] = value;
}
