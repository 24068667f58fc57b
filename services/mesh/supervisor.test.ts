// The launcher's supervisor with real child processes: a process that dies is restarted with backoff
// while the others keep running; stop() ends them all.
import { spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { backoffMs, Supervisor } from "./supervisor.ts";

const alive = (pid: number | undefined): boolean => {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const until = async (ok: () => boolean, ms = 15_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 25));
  }
};
const node = (code: string) => () => spawn(process.execPath, ["-e", code], { stdio: "ignore" });
const FOREVER = "setInterval(() => {}, 1000); process.on('SIGTERM', () => process.exit(0));";

let sup: Supervisor | undefined;
afterEach(async () => {
  await sup?.stop(2_000);
  sup = undefined;
});

describe("mesh supervisor", () => {
  it("backoff doubles from the initial delay up to the cap", () => {
    const o = { initialMs: 250, maxMs: 30_000 };
    expect([0, 1, 2, 3, 7, 8, 50].map((a) => backoffMs(a, o))).toEqual([250, 500, 1_000, 2_000, 30_000, 30_000, 30_000]);
  });

  it("restarts a process that died, with growing delays, and never touches the others", async () => {
    const delays: number[] = [];
    sup = new Supervisor({ initialMs: 50, maxMs: 400, stableMs: 60_000 }, { exited: (name, _c, _s, d) => name === "crashy" && d !== undefined && delays.push(d) });
    sup.add({ name: "steady", start: node(FOREVER) });
    sup.add({ name: "crashy", start: node("process.exit(3)") });
    const steadyPid = sup.pid("steady");
    await until(() => (sup?.restarts().crashy ?? 0) >= 4);
    expect(delays.slice(0, 4)).toEqual([50, 100, 200, 400]);
    expect(sup.pid("steady")).toBe(steadyPid);
    expect(alive(steadyPid)).toBe(true);
    expect(sup.restarts().steady).toBe(0);
  });

  it("a process killed from outside comes back; stop() ends every process and restarts none", async () => {
    sup = new Supervisor({ initialMs: 50, maxMs: 1_000, stableMs: 60_000 });
    sup.add({ name: "a", start: node(FOREVER) });
    sup.add({ name: "b", start: node(FOREVER) });
    const first = sup.pid("a");
    process.kill(first ?? 0, "SIGKILL");
    await until(() => sup?.pid("a") !== first && alive(sup?.pid("a")));
    const pids = [sup.pid("a"), sup.pid("b")];
    await sup.stop(2_000);
    expect(pids.map(alive)).toEqual([false, false]);
    await new Promise((r) => setTimeout(r, 200));
    expect(sup.restarts()).toEqual({ a: 1, b: 0 });
  });
});
