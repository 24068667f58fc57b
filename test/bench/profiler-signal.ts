// In a served target: BENCH_CPU_PROFILE=<file> makes SIGUSR2 start the V8 profiler and the next SIGUSR2
// write the profile there and print {"profile": file}, so a profile covers the measured window only
// (no start-up, no warm-up). Off (no signal handler) when the variable is unset.
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";

export function installProfilerSignal(env: Record<string, string | undefined> = process.env): void {
  const file = env.BENCH_CPU_PROFILE;
  if (!file) return;
  const session = new Session();
  session.connect();
  let running = false;
  process.on("SIGUSR2", () => {
    void (async () => {
      if (!running) {
        running = true;
        await session.post("Profiler.setSamplingInterval", { interval: Number(env.BENCH_CPU_PROFILE_INTERVAL_US ?? 250) });
        await session.post("Profiler.enable");
        await session.post("Profiler.start");
        console.log(JSON.stringify({ profiling: true }));
      } else {
        running = false;
        const { profile } = await session.post("Profiler.stop");
        writeFileSync(file, JSON.stringify(profile));
        console.log(JSON.stringify({ profile: file }));
      }
    })();
  });
}
