// Closed-loop load: `concurrency` workers, each sending its next request when the previous one has been
// read to the end, for a bounded time. undici's Pool keeps one keep-alive connection per worker and is
// the cheapest Node client we have, so the generator takes as little as possible of the shared cores.
import { Pool } from "undici";
import type { Sample } from "./stats.ts";

/** The request every bench sends: one short user message, 64 tokens out unless `maxTokens` says otherwise. */
export function benchBody(model = "gpt-4o-mini", maxTokens = 64): string {
  return JSON.stringify({ model, max_tokens: maxTokens, messages: [{ role: "user", content: "In one sentence, what does an LLM gateway do?" }] });
}

export interface LoadSpec {
  origin: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  concurrency: number;
  durationMs: number;
}

export interface LoadResult extends Sample {
  /** CPU the generator (this process) spent during the run, microseconds. */
  cpuUs: number;
}

export class LoadClient {
  private readonly pool: Pool;

  constructor(origin: string, connections: number) {
    this.pool = new Pool(origin, { connections, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 30_000, bodyTimeout: 30_000 });
  }

  async one(spec: Omit<LoadSpec, "origin" | "concurrency" | "durationMs">): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
    const res = await this.pool.request({ path: spec.path, method: "POST", headers: spec.headers, body: spec.body });
    return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
  }

  async run(spec: Omit<LoadSpec, "origin">): Promise<LoadResult> {
    const latenciesMs: number[] = [];
    const errors: Record<string, number> = {};
    let ok = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const deadline = t0 + spec.durationMs;
    const worker = async (): Promise<void> => {
      while (performance.now() < deadline) {
        const start = performance.now();
        try {
          const res = await this.pool.request({ path: spec.path, method: "POST", headers: spec.headers, body: spec.body });
          // Read the whole body: the client has its answer only then.
          await res.body.dump({ limit: Number.MAX_SAFE_INTEGER });
          if (res.statusCode >= 200 && res.statusCode < 300) {
            latenciesMs.push(performance.now() - start);
            ok++;
          } else {
            errors[String(res.statusCode)] = (errors[String(res.statusCode)] ?? 0) + 1;
          }
        } catch (e) {
          const code = (e as { code?: unknown }).code;
          const kind = typeof code === "string" ? code : e instanceof Error ? e.name : "error";
          errors[kind] = (errors[kind] ?? 0) + 1;
        }
      }
    };
    await Promise.all(Array.from({ length: spec.concurrency }, worker));
    const elapsedMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    return { latenciesMs, ok, errors, elapsedMs, cpuUs: cpu.user + cpu.system };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
