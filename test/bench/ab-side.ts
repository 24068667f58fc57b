// One side of `npm run bench:ab`: run from a checkout's root (cwd), it starts that checkout's own target
// (its test/bench/targets.ts, so its own code and build), prints one JSON line when ready, and stops
// the target on SIGTERM.
import { join } from "node:path";
import { pathToFileURL } from "node:url";

interface SideTarget {
  origin: string;
  path: string;
  headers: Record<string, string>;
  pids: number[];
  stop(): Promise<void>;
}
type Start = (simUrl: string, ...rest: boolean[]) => Promise<SideTarget>;

const simUrl = process.env.AB_SIM_URL;
const which = process.env.AB_TARGET;
if (!simUrl || (which !== "embedded" && which !== "mesh-procs")) throw new Error("AB_SIM_URL and AB_TARGET (embedded | mesh-procs) are required");
const mod = (await import(pathToFileURL(join(process.cwd(), "test/bench/targets.ts")).href)) as Record<string, unknown>;
const start = mod[which === "embedded" ? "embeddedTarget" : "meshProcessesTarget"];
if (typeof start !== "function") throw new Error(`${process.cwd()}: test/bench/targets.ts has no ${which === "embedded" ? "embeddedTarget" : "meshProcessesTarget"}`);
const t = await (start as Start)(simUrl, false);
console.log(JSON.stringify({ abReady: true, origin: t.origin, path: t.path, headers: t.headers, pids: t.pids }));
process.on("SIGTERM", () => {
  t.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
