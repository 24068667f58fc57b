// File I/O for the router CLIs: JSONL benchmark rows and artifacts.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { parseRouterArtifact, type RouterArtifact } from "../domain/artifact.ts";
import { parseBenchRow, type BenchRow } from "../domain/benchmark.ts";

export function readBenchFile(path: string): BenchRow[] {
  const text = readFileSync(path, "utf8");
  const rows: BenchRow[] = [];
  let lineNo = 0;
  for (const line of text.split("\n")) {
    lineNo++;
    if (!line.trim()) continue;
    try {
      rows.push(parseBenchRow(JSON.parse(line)));
    } catch (e) {
      throw new Error(`${path}:${lineNo}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return rows;
}

export function readArtifact(path: string): RouterArtifact {
  return parseRouterArtifact(JSON.parse(readFileSync(path, "utf8")));
}

export function writeJson(path: string, value: unknown): number {
  mkdirSync(dirname(path), { recursive: true });
  const text = JSON.stringify(value) + "\n";
  writeFileSync(path, text);
  return Buffer.byteLength(text);
}

/** Dataset name from a benchmark path: "data/gsm8k-dev.jsonl" → "gsm8k-dev". */
export function datasetName(path: string): string {
  const base = path.split("/").pop() ?? path;
  return base.replace(/\.jsonl$/, "");
}
