import { Counter, register, type Registry } from "prom-client";

const NAME = "llmgw_unpriced_calls_total";

/** Counter of provider calls whose model has no price (an alarm: the cost is unknown, not 0). */
export function unpricedCounter(registry: Registry = register): Counter<"model"> {
  const existing = registry.getSingleMetric(NAME);
  if (existing) return existing as Counter<"model">;
  return new Counter({
    name: NAME,
    help: "Provider calls whose model has no price in the price table",
    labelNames: ["model"],
    registers: [registry],
  });
}

export interface WarnLogger {
  warn(obj: object, msg: string): void;
}

/** Caller-side alarm for an unpriced call: count it and log a warning. */
export function recordUnpriced(model: string, logger?: WarnLogger, registry?: Registry, context: object = {}): void {
  unpricedCounter(registry).inc({ model });
  logger?.warn({ ...context, model }, "unpriced model: cost recorded as unknown (unpriced=true), add it to deploy/config/prices.yaml");
}
