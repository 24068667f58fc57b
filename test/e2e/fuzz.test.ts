// Issue #11: thousands of generated hostile requests across every route the edge has, in both run
// modes: no 5xx, no hang, every error in the OpenAI shape, /healthz answering within 100 ms throughout
// (probed concurrently), and a pathological 2 MB prompt refused or answered without freezing the edge.
// Seeded: a failure prints its label and replays with the same SEED.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MODES, startGateway, type Gateway } from "./harness.ts";
import { hostileRequest, jsonText, Rng, routesOf, type Keys, type Target } from "./support/hostile.ts";
import { httpBytes, rawRequest, type RawResponse } from "./support/raw-http.ts";

const SEED = 0x11a;
const REQUESTS = 1_500;
const CONCURRENCY = 12;
/** A request unanswered after this long is a hang. */
const HANG_MS = 60_000;
const HEALTHZ_BUDGET_MS = 100;
/**
 * The 100 ms bound under a 2 MB prompt is asserted in healthz-2mb.test.ts (a fresh gateway process, its
 * event-loop CPU per turn measured directly). Here it is measured and printed, but asserted only as "no freeze": the probe shares its event
 * loop with the load generator, the simulator and (embedded) the gateway, on a shared 2-core machine at
 * load ~15-20, where about half of the probes take over 100 ms with nothing blocking (max 0.7-1.7 s seen;
 * before the bounded tokenizer and privacy scans one prompt froze the process for 15-60 s).
 */
const FREEZE_MS = 3_000;

interface HealthProbe {
  stop(): Promise<{ probes: number; maxMs: number; slow: number[] }>;
}

/** GET /healthz every 20 ms on its own connection, each probe timed from send to answer. */
function probeHealth(port: number): HealthProbe {
  const times: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const res = await rawRequest(port, httpBytes("GET", "/healthz", []), HANG_MS);
      times.push(res.status === 200 ? res.ms : Number.POSITIVE_INFINITY);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { probes: times.length, maxMs: Math.max(...times), slow: times.filter((t) => t >= HEALTHZ_BUDGET_MS).map(Math.round) };
    },
  };
}

/** What is wrong with an answer, or undefined when it is a clean answer or a clean refusal. */
function problem(res: RawResponse, method: string, malformed: boolean, path = ""): string | undefined {
  if (res.timedOut) return "no answer (hang)";
  if (res.status === 0) return malformed ? undefined : "connection closed without an answer";
  if (res.status >= 500) return `status ${res.status}: ${res.body.toString("utf8").slice(0, 200)}`;
  if (res.status < 400 || method === "HEAD") return undefined;
  try {
    const body = JSON.parse(res.body.toString("utf8")) as { error?: Record<string, unknown>; type?: unknown };
    const e = body.error;
    // The Anthropic Messages routes answer in Anthropic's shape: {"type":"error","error":{"type","message"}}.
    if (method === "POST" && path.startsWith("/v1/messages")) {
      const anthropicOk = body.type === "error" && e !== undefined && typeof e["message"] === "string" && typeof e["type"] === "string" && Object.keys(body).length === 2;
      return anthropicOk ? undefined : `status ${res.status}, not the Anthropic error shape: ${res.body.toString("utf8").slice(0, 200)}`;
    }
    const ok = e !== undefined && typeof e["message"] === "string" && typeof e["type"] === "string" && (e["param"] === null || typeof e["param"] === "string") && (e["code"] === null || typeof e["code"] === "string");
    return ok && Object.keys(body).length === 1 ? undefined : `status ${res.status}, not the OpenAI error shape: ${res.body.toString("utf8").slice(0, 200)}`;
  } catch {
    return `status ${res.status}, body not JSON: ${res.body.toString("utf8").slice(0, 200)}`;
  }
}

describe.each(MODES)("fuzzing the edge (%s)", (mode) => {
  let gw: Gateway;
  let port: number;
  let keys: Keys;
  let targets: Target[];
  let models: string[];

  beforeAll(async () => {
    gw = await startGateway(mode);
    port = Number(new URL(gw.url).port);
    keys = { admin: gw.adminKey, tenant: await gw.createKey("fuzz-tenant") };
    targets = routesOf(gw.edge.app.printRoutes({ commonPrefix: false }));
    models = ["auto", "gpt-4o-mini", "small-8k", "no-such-model", "claude-3-5-haiku-latest"];
  }, 120_000);
  afterAll(async () => {
    await gw?.stop();
  }, 60_000);

  it("answers every hostile request cleanly: no 5xx, no hang, errors in the OpenAI shape, /healthz never frozen", async () => {
    expect(targets.map((t) => `${t.method} ${t.path}`)).toEqual(expect.arrayContaining(["POST /v1/chat/completions", "GET /v1/models", "POST /v1/batches", "GET /v1/llmgw/policy", "PUT /v1/llmgw/budgets", "GET /v1/llmgw/spend"]));
    const rng = new Rng(SEED);
    const requests = Array.from({ length: REQUESTS }, () => hostileRequest(rng, targets, keys, models));
    const probe = probeHealth(port);
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < requests.length) {
          const i = next++;
          const req = requests[i]!;
          const res = await rawRequest(port, req.bytes, HANG_MS, req.malformed);
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          const p = problem(res, req.label.split(" ")[0]!, req.malformed, req.label.split(" ")[1]);
          if (p) failures.push(`#${i} ${req.label}\n    -> ${p}`);
        }
      }),
    );
    const health = await probe.stop();
    console.log(`${mode}: ${REQUESTS} hostile requests (seed ${SEED}), statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}; /healthz ${health.probes} probes, max ${health.maxMs.toFixed(1)} ms`);
    expect(failures.slice(0, 20)).toEqual([]);
    console.log(`${mode}: /healthz probes over ${HEALTHZ_BUDGET_MS} ms: ${health.slow.length} of ${health.probes}`);
    expect(health.maxMs).toBeLessThan(FREEZE_MS);
  }, 240_000);

  it("a pathological 2 MB prompt (one character repeated) gets its 400 while /healthz keeps answering", async () => {
    const probe = probeHealth(port);
    await new Promise((r) => setTimeout(r, 100));
    const send = (body: unknown) =>
      rawRequest(port, httpBytes("POST", "/v1/chat/completions", [["Authorization", `Bearer ${keys.tenant}`], ["Content-Type", "application/json"]], jsonText(body as never)), HANG_MS * 2);
    // One 2 MB string: over edge.limits.string_chars, refused before anything reads it.
    const one = await send({ model: "auto", messages: [{ role: "user", content: "z".repeat(2_000_000) }] });
    // The same 2 MB in two messages under the string limit: tokenized within its budget, estimated past
    // it, and too long for the pinned model's context window.
    const two = await send({ model: "gpt-4o-mini", messages: [{ role: "user", content: "z".repeat(1_000_000) }, { role: "user", content: " ".repeat(1_000_000) }] });
    await new Promise((r) => setTimeout(r, 100));
    const health = await probe.stop();
    expect([one.status, JSON.parse(one.body.toString("utf8")).error.code]).toEqual([400, "string_too_long"]);
    expect(two.status, two.body.toString("utf8")).toBe(400);
    expect(problem(two, "POST", false)).toBeUndefined();
    console.log(`${mode}: 2 MB prompts answered in ${one.ms.toFixed(0)} / ${two.ms.toFixed(0)} ms; /healthz ${health.probes} probes, max ${health.maxMs.toFixed(1)} ms`);
    console.log(`${mode}: /healthz probes over ${HEALTHZ_BUDGET_MS} ms: ${health.slow.length} of ${health.probes}`);
    expect(health.maxMs).toBeLessThan(FREEZE_MS);
  }, 120_000);
});
