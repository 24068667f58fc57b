// pino JSON logs. Prompts, completions and keys are redacted by default: logs are read by more
// people than the data they describe.
import { pino, type Logger } from "pino";

export type { Logger };

const REDACT = [
  "messages",
  "*.messages",
  "prompt",
  "*.prompt",
  "completion",
  "*.completion",
  "content",
  "*.content",
  "apiKey",
  "*.apiKey",
  "authorization",
  "*.authorization",
  "req.headers.authorization",
  "req.headers[\"x-api-key\"]",
];

export function createLogger(service: string, opts: { level?: string; redact?: boolean } = {}): Logger {
  const level = opts.level ?? process.env.LOG_LEVEL ?? "info";
  const redact = opts.redact ?? process.env.LLMGW_LOG_PROMPTS !== "1";
  return pino({
    name: service,
    level,
    base: { service },
    redact: redact ? { paths: REDACT, censor: "[redacted]" } : [],
  });
}

/** A logger that writes nothing, for tests and benchmarks. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
