// pino JSON logs. Prompts, completions and keys are redacted by default: logs are read by more
// people than the data they describe.
import { pino, type Logger } from "pino";
import { traceLogFields } from "#libs/tracing/tracing.ts";

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

/** `level` and `redact` come from settings (LOG_LEVEL, LLMGW_LOG_PROMPTS) where the process starts. */
export function createLogger(service: string, opts: { level?: string; redact?: boolean } = {}): Logger {
  const level = opts.level ?? "info";
  const redact = opts.redact ?? true;
  return pino({
    name: service,
    level,
    base: { service },
    redact: redact ? { paths: REDACT, censor: "[redacted]" } : [],
    // Inside a traced request every line carries its trace and span id (nothing when tracing is off).
    mixin: traceLogFields,
  });
}

/** A logger that writes nothing, for tests and benchmarks. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
