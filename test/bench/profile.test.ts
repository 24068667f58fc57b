import { describe, expect, it } from "vitest";
import { inclusiveOurCode, summarizeCpuProfile, type CpuProfile } from "./profile.ts";

const root = "/proj";
const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 9, columnNumber: 0 });
// root → handle (ours) → parse (npm) ; root → (idle) ; root → (garbage collector)
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame("(root)", ""), children: [2, 4, 5] },
    { id: 2, callFrame: frame("handle", "file:///proj/services/edge/app.ts"), children: [3] },
    { id: 3, callFrame: frame("parse", "file:///proj/node_modules/@bufbuild/protobuf/dist/x.js"), children: [] },
    { id: 4, callFrame: frame("(idle)", ""), children: [] },
    { id: 5, callFrame: frame("(garbage collector)", ""), children: [] },
  ],
  samples: [2, 3, 3, 4, 4, 4, 5],
  timeDeltas: [100, 100, 100, 1000, 1000, 1000, 100],
  startTime: 0,
  endTime: 3400,
};

describe("summarizeCpuProfile", () => {
  it("splits busy self time by function, our file, package and kind", () => {
    const s = summarizeCpuProfile(profile, root);
    expect(s.totalMs).toBeCloseTo(3.4);
    expect(s.busyMs).toBeCloseTo(0.4);
    expect(s.functions[0]).toMatchObject({ where: "node_modules/@bufbuild/protobuf/dist/x.js:parse:10", pct: 50 });
    expect(s.ourFiles).toEqual([{ where: "services/edge/app.ts", selfMs: 0.1, pct: 25 }]);
    expect(s.packages[0]).toMatchObject({ where: "@bufbuild/protobuf", pct: 50 });
    expect(Object.fromEntries(s.kinds.map((k) => [k.where, k.pct]))).toEqual({ "npm packages": 50, "our code": 25, gc: 25 });
  });

  it("charges callees to our calling function when inclusive", () => {
    expect(inclusiveOurCode(profile, root)).toEqual([{ where: "services/edge/app.ts:handle", selfMs: 0.3, pct: 75 }]);
  });
});

describe("profiler's own work", () => {
  it("is left out of busy time", () => {
    const p: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame("(root)", ""), children: [2, 3] },
        { id: 2, callFrame: frame("post", "node:inspector"), children: [4] },
        { id: 3, callFrame: frame("handle", "file:///proj/services/edge/app.ts"), children: [] },
        { id: 4, callFrame: frame("stringify", ""), children: [] },
      ],
      samples: [3, 4, 2],
      timeDeltas: [100, 500, 500],
      startTime: 0,
      endTime: 1100,
    };
    expect(summarizeCpuProfile(p, root).busyMs).toBeCloseTo(0.1);
    expect(inclusiveOurCode(p, root)).toEqual([{ where: "services/edge/app.ts:handle", selfMs: 0.1, pct: 100 }]);
  });
});
