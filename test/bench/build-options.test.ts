import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BUILD_OPTIONS } from "../../bin/build-options.mjs";

describe("BUILD_OPTIONS", () => {
  // The bench once built its children without --splitting and measured memory production never has.
  it("says what package.json's build script says on the command line", () => {
    const script = (JSON.parse(readFileSync("package.json", "utf8")) as { scripts: { build: string } }).scripts.build;
    const flags = new Set(script.split(/\s+/).filter((w) => w.startsWith("--")));
    const expected = [
      BUILD_OPTIONS.bundle ? "--bundle" : "",
      `--platform=${BUILD_OPTIONS.platform}`,
      `--target=${String(BUILD_OPTIONS.target)}`,
      `--format=${BUILD_OPTIONS.format}`,
      `--packages=${BUILD_OPTIONS.packages}`,
      BUILD_OPTIONS.splitting ? "--splitting" : "",
      ...Object.entries(BUILD_OPTIONS.outExtension ?? {}).map(([from, to]) => `--out-extension:${from}=${to}`),
      `--chunk-names=${BUILD_OPTIONS.chunkNames}`,
      `--log-level=${BUILD_OPTIONS.logLevel}`,
    ].filter((f) => f !== "");
    for (const f of expected) expect(flags, f).toContain(f);
    // Nothing on the command line that the object leaves out (outdir and outbase are each caller's own).
    const known = new Set([...expected, "--outdir=dist", "--outbase=."]);
    expect([...flags].filter((f) => !known.has(f))).toEqual([]);
  });
});
