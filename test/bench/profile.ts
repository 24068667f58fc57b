// Reads a V8 .cpuprofile (node --cpu-prof) into self-time tables: per function, per file of ours, per
// npm package, so the hot spots of the gateway are named as file:function with a share of busy time.

export interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: CpuProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface HotSpot {
  where: string;
  selfMs: number;
  /** Share of busy (non-idle) time, percent. */
  pct: number;
}

export interface ProfileSummary {
  totalMs: number;
  busyMs: number;
  functions: HotSpot[];
  ourFiles: HotSpot[];
  packages: HotSpot[];
  /** Busy time by kind: our code, npm packages, node internals, GC, other. */
  kinds: HotSpot[];
}

const IDLE = new Set(["(idle)", "(program)"]);

/** Nodes under a `node:inspector` frame: the profiler's own stop-and-serialise work, not the gateway's. */
function profilerNodes(p: CpuProfile): Set<number> {
  const out = new Set<number>();
  const byId = new Map(p.nodes.map((node) => [node.id, node]));
  const mark = (id: number): void => {
    if (out.has(id)) return;
    out.add(id);
    for (const c of byId.get(id)?.children ?? []) mark(c);
  };
  for (const node of p.nodes) if (node.callFrame.url === "node:inspector") mark(node.id);
  return out;
}

function packageOf(url: string): string | undefined {
  const i = url.lastIndexOf("/node_modules/");
  if (i < 0) return undefined;
  const rest = url.slice(i + "/node_modules/".length).split("/");
  return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1] ?? ""}` : rest[0];
}

function kindOf(frame: CpuProfileNode["callFrame"], root: string): string {
  if (frame.functionName === "(garbage collector)") return "gc";
  if (frame.url.startsWith("node:")) return "node internals";
  if (frame.url.startsWith("wasm://")) return "wasm (PGlite, llhttp)";
  if (packageOf(frame.url)) return "npm packages";
  if (frame.url.includes(root)) return "our code";
  if (frame.url === "") return "native/other";
  return "other";
}

function rel(url: string, root: string): string {
  const u = url.replace(/^file:\/\//, "");
  return u.startsWith(root) ? u.slice(root.length + 1) : u;
}

function top(m: Map<string, number>, busy: number, n: number): HotSpot[] {
  return [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([where, us]) => ({ where, selfMs: us / 1000, pct: busy > 0 ? (100 * us) / busy : 0 }));
}

/** `root` is the project directory (absolute), to tell our files from everything else. */
export function summarizeCpuProfile(p: CpuProfile, root: string, n = 25): ProfileSummary {
  const byId = new Map(p.nodes.map((node) => [node.id, node]));
  const skip = profilerNodes(p);
  const selfUs = new Map<number, number>();
  p.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const fn = new Map<string, number>();
  const files = new Map<string, number>();
  const pkgs = new Map<string, number>();
  const kinds = new Map<string, number>();
  let total = 0;
  let busy = 0;
  for (const [id, us] of selfUs) {
    total += us;
    const node = byId.get(id);
    if (!node || IDLE.has(node.callFrame.functionName) || skip.has(id)) continue;
    busy += us;
    const f = node.callFrame;
    const kind = kindOf(f, root);
    kinds.set(kind, (kinds.get(kind) ?? 0) + us);
    const file = rel(f.url, root);
    const name = `${file || "(native)"}:${f.functionName || "(anonymous)"}:${f.lineNumber + 1}`;
    fn.set(name, (fn.get(name) ?? 0) + us);
    if (kind === "our code") files.set(file, (files.get(file) ?? 0) + us);
    const pkg = packageOf(f.url);
    if (pkg) pkgs.set(pkg, (pkgs.get(pkg) ?? 0) + us);
  }
  return { totalMs: total / 1000, busyMs: busy / 1000, functions: top(fn, busy, n), ourFiles: top(files, busy, n), packages: top(pkgs, busy, n), kinds: top(kinds, busy, 10) };
}

/**
 * Inclusive time of our own functions (self + everything they call), which names the code path to
 * fix even when the self time lands in a library it calls.
 */
export function inclusiveOurCode(p: CpuProfile, root: string, n = 25): HotSpot[] {
  const byId = new Map(p.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of p.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
  const skip = profilerNodes(p);
  const acc = new Map<string, number>();
  let busy = 0;
  p.samples.forEach((id, i) => {
    const us = p.timeDeltas[i] ?? 0;
    const leaf = byId.get(id);
    if (!leaf || IDLE.has(leaf.callFrame.functionName) || skip.has(id)) return;
    busy += us;
    // Count each of our functions once per sample even under recursion.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)?.callFrame;
      if (!f || kindOf(f, root) !== "our code") continue;
      const name = `${rel(f.url, root)}:${f.functionName || "(anonymous)"}`;
      if (seen.has(name)) continue;
      seen.add(name);
      acc.set(name, (acc.get(name) ?? 0) + us);
    }
  });
  return top(acc, busy, n);
}
