// models.<id>.queue: off unless configured, defaults when present, and a micro-batch that could never flush refused.
import { describe, expect, it } from "vitest";
import { loadConfig } from "./load.ts";

const withQueue = (queue: unknown, maxConcurrency = 8) =>
  loadConfig({
    env: {},
    patch: (raw) => Object.assign((raw["models"] as Record<string, Record<string, unknown>>)["small-8k"]!, { max_concurrency: maxConcurrency, queue }),
  });

describe("models.<id>.queue", () => {
  it("is off unless configured", () => {
    expect(loadConfig({ env: {} }).models["small-8k"]?.queue).toBeUndefined();
  });

  it("defaults to no waiting and no wait limit beyond the request's own", () => {
    expect(withQueue({}).models["small-8k"]?.queue).toEqual({ max_queue: 0 });
    expect(withQueue({ max_queue: 32, max_wait_ms: 2000, batch: { max_size: 8, max_age_ms: 300 } }).models["small-8k"]?.queue).toEqual({
      max_queue: 32,
      max_wait_ms: 2000,
      batch: { max_size: 8, max_age_ms: 300 },
    });
  });

  it("refuses a micro-batch larger than the concurrency or the queue", () => {
    expect(() => withQueue({ max_queue: 64, batch: { max_size: 20, max_age_ms: 300 } }, 8)).toThrow(/models\.small-8k\.queue\.batch\.max_size: must not exceed the model's max_concurrency \(8\)/);
    expect(() => withQueue({ max_queue: 4, batch: { max_size: 8, max_age_ms: 300 } }, 8)).toThrow(/models\.small-8k\.queue\.batch\.max_size: must not exceed queue\.max_queue \(4\)/);
    expect(() => withQueue({ max_queue: -1 })).toThrow(/models\.small-8k\.queue\.max_queue/);
  });
});
