// The arithmetic of `npm run bench:stages`: the lines stage-marks.mjs writes, cut to a measured window,
// turned into the median time of each step of a request inside the process.
import { median } from "./stats.ts";

/** One request alone in its process: µs from its start to each point it reached (see stage-marks.mjs). */
export interface StageRecord {
  /** Epoch milliseconds at its start. */
  t: number;
  send?: number;
  idle?: number;
  headers?: number;
  body?: number;
  finish: number;
}

/** The steps reported, each the time between two points of a record. */
export const STEPS = [
  { name: "request start → upstream request sent", from: "start", to: "send" },
  { name: "  of which from the send: main thread busy (the write included)", from: "send", to: "idle" },
  { name: "upstream request sent → answer's headers", from: "send", to: "headers" },
  { name: "answer's headers → its end", from: "headers", to: "body" },
  { name: "answer's end → response written", from: "body", to: "finish" },
  { name: "total inside the process", from: "start", to: "finish" },
] as const;

type Point = "start" | Exclude<keyof StageRecord, "t">;

export function parseStageLines(text: string): StageRecord[] {
  const out: StageRecord[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const v = JSON.parse(line) as Partial<StageRecord>;
    if (typeof v.t === "number" && typeof v.finish === "number") out.push(v as StageRecord);
  }
  return out;
}

const pointOf = (r: StageRecord, p: Point): number | undefined => (p === "start" ? 0 : r[p]);

/** Median µs of each step over the records that started within [fromMs, toMs]; undefined where no record has both points. */
export function stepMedians(records: readonly StageRecord[], fromMs: number, toMs: number): { n: number; steps: (number | undefined)[] } {
  const inWindow = records.filter((r) => r.t >= fromMs && r.t <= toMs);
  const steps = STEPS.map((s) => {
    const d: number[] = [];
    for (const r of inWindow) {
      const a = pointOf(r, s.from);
      const b = pointOf(r, s.to);
      if (a !== undefined && b !== undefined) d.push(b - a);
    }
    return d.length > 0 ? median(d) : undefined;
  });
  return { n: inWindow.length, steps };
}
