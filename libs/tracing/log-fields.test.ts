import { pino } from "pino";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { traceLogFields } from "./tracing.ts";

describe("traceLogFields as a pino mixin", () => {
  it("lets a line with its own fields be written outside any trace (pino merges into the mixin's object)", () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) });
    const log = pino({ mixin: traceLogFields }, sink);
    expect(() => log.warn({ provider: "openai" }, "one")).not.toThrow();
    expect(() => log.warn({ other: 1 }, "two")).not.toThrow();
    expect(JSON.parse(lines[1] ?? "{}")).not.toHaveProperty("provider");
  });
});
