// The edge's chat pipeline through in-process clients with typed fakes: each of our RPC services
// (classifier, cache, router, executor, ledger, evaluator) is a Partial<ServiceImpl> that records its
// requests and answers from a script, behind a Connect router transport; events go to a real
// MemoryEventBus, which the test subscribes to. Prices are the real price table.
import { fromBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport, type Client, type ServiceImpl } from "@connectrpc/connect";
import type { DescService } from "@bufbuild/protobuf";
import type OpenAI from "openai";
import { Registry, type Counter } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import type { BusMessage, BusSubscription } from "#libs/bus/event-bus.ts";
import { MemoryEventBus } from "#libs/bus/memory-bus.ts";
import { subjects } from "#libs/bus/subjects.ts";
import { loadConfig } from "#libs/config/load.ts";
import type { Config } from "#libs/config/schema.ts";
import type { BudgetOutageMode } from "#libs/config/resilience.ts";
import { GatewayError } from "#libs/errors/openai-error.ts";
import {
  CacheControl,
  CacheService,
  type LookupRequest,
  type LookupResponseSchema,
  type StoreRequest,
} from "#libs/gen/llmgw/cache/v1/cache_pb.ts";
import { ClassifierService, type ClassifyRequest, type ClassifyResponseSchema } from "#libs/gen/llmgw/classifier/v1/classifier_pb.ts";
import { Tier, type CandidateSchema } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import { EvaluatorService } from "#libs/gen/llmgw/evaluator/v1/evaluator_pb.ts";
import { RequestCompletedSchema, ShadowTestRequestedSchema, type RequestCompleted, type ShadowTestRequested } from "#libs/gen/llmgw/events/v1/events_pb.ts";
import { ExecutorService, type ExecuteRequest, type ExecuteResponseSchema } from "#libs/gen/llmgw/executor/v1/executor_pb.ts";
import {
  LedgerService,
  type ReserveBudgetRequest,
  type ReserveBudgetResponseSchema,
  type SettleBudgetRequest,
} from "#libs/gen/llmgw/ledger/v1/ledger_pb.ts";
import { RouterService, type RouteRequest, type RouteResponseSchema } from "#libs/gen/llmgw/router/v1/router_pb.ts";
import { silentLogger } from "#libs/log/logger.ts";
import { loadPriceTable } from "#libs/pricing/index.ts";
import { ChatPipeline, type ChatCall, type ChatResult } from "./chat-pipeline.ts";
import { answerBytes } from "./chat/execute.ts";
import type { AfterAnswerHook } from "./chat/hooks.ts";
import type { ChatOutcome, ChatRecord } from "./chat/record.ts";
import type { EdgeClients, EdgeDeps } from "./deps.ts";
import { edgeMetrics, type EdgeMetrics } from "./metrics.ts";
import { EventOutbox } from "./outbox.ts";
import { tablePricing } from "./pricing.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const config = loadConfig({ env: {} });
const pricing = tablePricing(loadPriceTable());
const SUBJECTS = subjects(); // MemoryEventBus defaults to DEFAULT_BUS_NAMES

type CandidateInit = MessageInitShape<typeof CandidateSchema>;
type ExecuteEvent = MessageInitShape<typeof ExecuteResponseSchema>;
type UsageJson = { prompt_tokens: number; completion_tokens: number };

// ---------- scripted answers ----------

const cand = (model: string, provider = "openai"): CandidateInit => ({ model, provider, upstreamModel: model, contextWindow: 128_000n });

function completion(model: string, content: string | null, finishReason: "stop" | "length", usage: UsageJson = { prompt_tokens: 1000, completion_tokens: 500 }): OpenAI.Chat.ChatCompletion {
  return {
    id: `chatcmpl-${model}`,
    object: "chat.completion",
    created: 1_700_000_000,
    model,
    choices: [{ index: 0, finish_reason: finishReason, logprobs: null, message: { role: "assistant", content, refusal: null } }],
    usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
  };
}

const protoUsage = (u: UsageJson) => ({ inputTokens: BigInt(u.prompt_tokens), outputTokens: BigInt(u.completion_tokens) });

function summary(c: OpenAI.Chat.ChatCompletion, provider = "openai"): ExecuteEvent {
  const usage = protoUsage({ prompt_tokens: c.usage?.prompt_tokens ?? 0, completion_tokens: c.usage?.completion_tokens ?? 0 });
  return {
    event: {
      case: "summary",
      value: {
        model: c.model,
        provider,
        usage,
        finishReason: c.choices[0]?.finish_reason ?? "",
        attempts: [{ model: c.model, provider, status: "ok", httpStatus: 200, latencyMs: 40n, usage }],
        latencyMs: 40n,
      },
    },
  };
}

/** A non-streaming execution: the completion, then the summary. */
const answered = (c: OpenAI.Chat.ChatCompletion): ExecuteEvent[] => [{ event: { case: "completionJson", value: encoder.encode(JSON.stringify(c)) } }, summary(c)];

/** A streaming execution: started, the chunks, the assembled completion, the summary. */
function streamed(c: OpenAI.Chat.ChatCompletion, words: string[]): ExecuteEvent[] {
  const chunk = (delta: OpenAI.Chat.ChatCompletionChunk.Choice.Delta, finish: "stop" | null): ExecuteEvent => ({
    event: {
      case: "chunkJson",
      value: encoder.encode(JSON.stringify({ id: c.id, object: "chat.completion.chunk", created: c.created, model: c.model, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] })),
    },
  });
  return [
    { event: { case: "started", value: { model: c.model, provider: "openai" } } },
    ...words.map((w, i) => chunk(i === 0 ? { role: "assistant", content: w } : { content: w }, null)),
    chunk({}, "stop"),
    { event: { case: "completionJson", value: encoder.encode(JSON.stringify(c)) } },
    summary(c),
  ];
}

const failed = (httpStatus: number, model = "gpt-4o-mini"): ExecuteEvent[] => [
  {
    event: {
      case: "failure",
      value: {
        httpStatus,
        type: "server_error",
        code: "upstream_error",
        message: "provider exploded",
        attempts: [{ model, provider: "openai", status: "error", httpStatus, errorCode: "upstream_error", latencyMs: 30n }],
      },
    },
  },
];

// ---------- typed fakes ----------

interface Script {
  classify: MessageInitShape<typeof ClassifyResponseSchema> | (() => Promise<MessageInitShape<typeof ClassifyResponseSchema>>);
  lookup: MessageInitShape<typeof LookupResponseSchema> | ConnectError;
  route: MessageInitShape<typeof RouteResponseSchema> | ConnectError;
  reserve: MessageInitShape<typeof ReserveBudgetResponseSchema> | ConnectError;
  /** One entry per Execute call, in call order (the last one repeats). */
  executions: (ExecuteEvent[] | ConnectError)[];
}

interface Calls {
  classify: ClassifyRequest[];
  lookup: LookupRequest[];
  store: StoreRequest[];
  route: RouteRequest[];
  reserve: ReserveBudgetRequest[];
  settle: SettleBudgetRequest[];
  execute: ExecuteRequest[];
}

const MINI = completion("gpt-4o-mini", "4", "stop");

const defaultScript = (): Script => ({
  classify: { tier: Tier.MEDIUM, category: "math", confidence: 0.8, classifier: "rules@1" },
  lookup: { hit: false, reason: "no_entry" },
  route: { candidates: [cand("gpt-4o-mini"), cand("claude-3-5-haiku-latest", "anthropic")], tier: Tier.MEDIUM, reasons: ["cheapest capable"], referenceModel: "claude-sonnet-4-5" },
  reserve: { admitted: true, state: "ok" },
  executions: [answered(MINI)],
});

const answer = <T>(v: T | ConnectError): T => {
  if (v instanceof ConnectError) throw v;
  return v;
};

function fakeClassifier(s: Script, calls: Calls): Partial<ServiceImpl<typeof ClassifierService>> {
  return {
    classify(req) {
      calls.classify.push(req);
      return typeof s.classify === "function" ? s.classify() : s.classify;
    },
    async classifyBatch(req) {
      const results = [];
      for (const r of req.requests) {
        calls.classify.push(r);
        results.push(typeof s.classify === "function" ? await s.classify() : s.classify);
      }
      return { results };
    },
  };
}

function fakeCache(s: Script, calls: Calls): Partial<ServiceImpl<typeof CacheService>> {
  return {
    lookup(req) {
      calls.lookup.push(req);
      return answer(s.lookup);
    },
    store(req) {
      calls.store.push(req);
      return { stored: true };
    },
  };
}

function fakeRouter(s: Script, calls: Calls): Partial<ServiceImpl<typeof RouterService>> {
  return {
    route(req) {
      calls.route.push(req);
      return answer(s.route);
    },
  };
}

function fakeLedger(s: Script, calls: Calls): Partial<ServiceImpl<typeof LedgerService>> {
  return {
    reserveBudget(req) {
      calls.reserve.push(req);
      return answer(s.reserve);
    },
    settleBudget(req) {
      calls.settle.push(req);
      return {};
    },
  };
}

function fakeExecutor(s: Script, calls: Calls): Partial<ServiceImpl<typeof ExecutorService>> {
  return {
    async *execute(req) {
      calls.execute.push(req);
      const script = s.executions[Math.min(calls.execute.length - 1, s.executions.length - 1)] ?? [];
      if (script instanceof ConnectError) throw script;
      for (const ev of script) yield ev;
    },
  };
}

const client = <S extends DescService>(service: S, impl: Partial<ServiceImpl<S>>): Client<S> =>
  createClient(service, createRouterTransport((r) => r.service(service, impl)));

// ---------- harness ----------

interface Harness {
  pipeline: ChatPipeline;
  calls: Calls;
  metrics: EdgeMetrics;
  outbox: EventOutbox;
  /** Everything published on the bus so far (after flushing the outbox and letting the bus deliver). */
  published(): Promise<BusMessage[]>;
  completed(): Promise<RequestCompleted[]>;
  shadows(): Promise<ShadowTestRequested[]>;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until the condition holds (positive assertions on fire-and-forget RPCs). */
async function until(cond: () => boolean, ms = 1_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await sleep(2);
}

async function harness(
  script: Partial<Script> = {},
  hooks?: AfterAnswerHook[],
  outageMode?: BudgetOutageMode,
  defer?: (run: () => void) => void,
  over: { shadow?: Partial<Config["routing"]["shadow"]>; random?: () => number } = {},
): Promise<Harness> {
  const s: Script = { ...defaultScript(), ...script };
  const calls: Calls = { classify: [], lookup: [], store: [], route: [], reserve: [], settle: [], execute: [] };
  const clients: EdgeClients = {
    classifier: client(ClassifierService, fakeClassifier(s, calls)),
    cache: client(CacheService, fakeCache(s, calls)),
    router: client(RouterService, fakeRouter(s, calls)),
    executor: client(ExecutorService, fakeExecutor(s, calls)),
    ledger: client(LedgerService, fakeLedger(s, calls)),
    evaluator: client(EvaluatorService, {}),
  };
  const bus = new MemoryEventBus();
  const registry = new Registry();
  const logger = silentLogger();
  let cfg = outageMode ? { ...config, budgets: { ...config.budgets, outage_mode: outageMode } } : config;
  if (over.shadow) cfg = { ...cfg, routing: { ...cfg.routing, shadow: { ...cfg.routing.shadow, ...over.shadow } } };
  const deps: EdgeDeps = { config: cfg, clients, events: bus, pricing, logger, registry, ready: async () => true, ...(over.random ? { random: over.random } : {}) };
  const outbox = new EventOutbox(bus, logger, registry);
  const metrics = edgeMetrics(registry);
  const received: BusMessage[] = [];
  const sub: BusSubscription = await bus.subscribe({ durable: "test", filterSubject: SUBJECTS.all, maxBatch: 1, maxWaitMs: 0 }, async (msgs) => {
    for (const m of msgs) {
      received.push(m);
      m.ack();
    }
  });
  cleanups.push(async () => {
    outbox.stop();
    await bus.close();
    await sub.stop();
  });
  const published = async () => {
    expect(await outbox.flush(1_000)).toBe(true);
    await sleep(10); // the durable delivers one message per turn of its loop
    return received;
  };
  return {
    pipeline: new ChatPipeline(deps, outbox, metrics, hooks, defer ? { defer } : {}),
    calls,
    metrics,
    outbox,
    published,
    completed: async () => (await published()).filter((m) => m.subject === SUBJECTS.requestCompleted).map((m) => fromBinary(RequestCompletedSchema, m.data)),
    shadows: async () => (await published()).filter((m) => m.subject === SUBJECTS.shadowRequested).map((m) => fromBinary(ShadowTestRequestedSchema, m.data)),
  };
}

let seq = 0;
function chatCall(body: Partial<OpenAI.Chat.ChatCompletionCreateParamsNonStreaming> | OpenAI.Chat.ChatCompletionCreateParamsStreaming = {}, over: Partial<ChatCall> = {}): ChatCall {
  seq += 1;
  return {
    requestId: `req-${seq}`,
    traceId: `trace-${seq}`,
    receivedAt: new Date(),
    t0: performance.now(),
    auth: { keyId: "key_1", tenantId: "acme", admin: false },
    body: { model: "auto", messages: [{ role: "user", content: "What is 2+2?" }], ...body } as OpenAI.Chat.ChatCompletionCreateParams,
    cacheControl: CacheControl.DEFAULT,
    sessionId: "",
    ...over,
  };
}

function json(r: ChatResult): Extract<ChatResult, { type: "json" }> {
  if (r.type !== "json") throw new Error(`expected a JSON result, got ${r.type}`);
  return r;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error("expected the call to reject");
}

const one = <T>(xs: T[]): T => {
  expect(xs).toHaveLength(1);
  return xs[0] as T;
};

/** The counter's total over the series matching these labels. */
async function counterValue<L extends string>(m: Counter<L>, labels: Partial<Record<L, string>>): Promise<number> {
  const want = Object.entries(labels) as [L, string][];
  return (await m.get()).values.filter((v) => want.every(([k, x]) => v.labels[k] === x)).reduce((sum, v) => sum + v.value, 0);
}

// ---------- tests ----------

describe("ChatPipeline: a routed JSON request", () => {
  it("classifies, misses the cache, routes, reserves the worst case and executes the router's candidates", async () => {
    const h = await harness();
    const call = chatCall({ max_tokens: 100 });
    const res = json(await h.pipeline.handle(call));

    const cls = one(h.calls.classify);
    expect(cls.context?.requestId).toBe(call.requestId);
    expect(cls.messages.map((m) => [m.role, m.content])).toEqual([["user", "What is 2+2?"]]);
    expect(cls.maxTokens).toBe(100);

    const lookup = one(h.calls.lookup);
    expect(lookup.key?.scope).toBe("MEDIUM"); // an alias: the answer is valid for the tier
    expect(lookup.key?.category).toBe("math");
    expect(lookup.key?.paramsJson).toBe('{"max_tokens":100}');

    const route = one(h.calls.route);
    expect(route.requestedModel).toBe("auto");
    expect(route.tier).toBe(Tier.MEDIUM);
    expect(route.category).toBe("math");
    expect(route.maxTokens).toBe(100);
    expect(route.inputTokens).toBeGreaterThan(0n);
    expect(route.stream).toBe(false);

    // Worst case: prompt at the dearest candidate's input rate + 100 output tokens at its output rate
    // (claude-3-5-haiku: $0.80 / $4.00 per 1M, dearer than gpt-4o-mini's $0.15 / $0.60).
    const reserve = one(h.calls.reserve);
    expect(reserve).toMatchObject({ reservationId: call.requestId, tenantId: "acme", keyId: "key_1" });
    const worst = Number(reserve.amountUsd);
    const haikuOutput = (100 * 4) / 1e6;
    expect(worst).toBeGreaterThan(haikuOutput);
    expect(worst).toBeLessThan(haikuOutput + (100 * 0.8) / 1e6);

    const exec = one(h.calls.execute);
    expect(exec.candidates.map((c) => c.model)).toEqual(["gpt-4o-mini", "claude-3-5-haiku-latest"]);
    expect(exec.purpose).toBe("primary");
    expect(exec.stream).toBe(false);
    expect(JSON.parse(decoder.decode(exec.requestJson))).toEqual(call.body);
    expect(exec.context?.tenantId).toBe("acme");

    expect(res.body.choices[0]?.message.content).toBe("4");
    expect(res.headers).toMatchObject({
      "x-llmgw-request-id": call.requestId,
      "x-llmgw-model": "gpt-4o-mini",
      "x-llmgw-tier": "MEDIUM",
      "x-llmgw-cache": "miss",
      // 1000 input × $0.15 + 500 output × $0.60 per 1M
      "x-llmgw-cost-usd": "0.00045",
      "x-llmgw-route-reasons": "cheapest capable",
    });
  });

  it("stores a finished answer in the cache, publishes RequestCompleted and leaves settlement to the ledger", async () => {
    const h = await harness();
    const call = chatCall();
    const result = await h.pipeline.handle(call);

    const ev = one(await h.completed());
    expect(ev.context?.requestId).toBe(call.requestId);
    expect(ev.httpStatus).toBe(200);
    expect(ev.budgetReserved).toBe(true);
    expect(ev.baselineModel).toBe("claude-sonnet-4-5"); // the route's reference model, not the config's gpt-4o
    expect(ev.model).toBe("gpt-4o-mini");
    expect(ev.provider).toBe("openai");
    expect(ev.requestedModel).toBe("auto");
    expect(ev.cacheOutcome).toBe("miss");
    expect(ev.tier).toBe(Tier.MEDIUM);
    expect(ev.category).toBe("math");
    expect(ev.cascaded).toBe(false);
    expect(ev.escalated).toBe(false);
    expect(ev.stream).toBe(false);
    expect(ev.answerUsage).toMatchObject({ inputTokens: 1000n, outputTokens: 500n });
    expect(ev.calls.map((c) => [c.kind, c.model, c.status])).toEqual([["primary", "gpt-4o-mini", "ok"]]);

    await until(() => h.calls.store.length > 0);
    const store = one(h.calls.store);
    expect(store.model).toBe("gpt-4o-mini");
    expect(store.key?.scope).toBe("MEDIUM");
    expect(JSON.parse(store.completionJson)).toEqual(MINI);
    // The very bytes the client got (the executor's), not a second serialization.
    expect(store.completionJson).toBe(new TextDecoder().decode(answerBytes(result)));

    expect(h.calls.settle).toEqual([]);
    expect(await counterValue(h.metrics.requests, { status: "200", model: "gpt-4o-mini", tier: "MEDIUM", cache: "miss" })).toBe(1);
  });

  it("counts each request under its own labels when they change from one request to the next", async () => {
    const h = await harness();
    await h.pipeline.handle(chatCall());
    await h.pipeline.handle(chatCall({}, { cacheControl: CacheControl.OFF }));
    await h.pipeline.handle(chatCall());
    await h.pipeline.handle(chatCall({}, { cacheControl: CacheControl.OFF }));
    await h.pipeline.handle(chatCall({}, { cacheControl: CacheControl.OFF }));
    const labels = { status: "200", model: "gpt-4o-mini", tier: "MEDIUM" };
    expect(await counterValue(h.metrics.requests, { ...labels, cache: "miss" })).toBe(2);
    expect(await counterValue(h.metrics.requests, { ...labels, cache: "bypass" })).toBe(3);
  });

  it("counts every answer in the edge's series: requests, tokens, cost and the overhead histogram", async () => {
    const h = await harness();
    await h.pipeline.handle(chatCall());
    await h.pipeline.handle(chatCall());
    const labels = { status: "200", model: "gpt-4o-mini", tier: "MEDIUM", cache: "miss" };
    expect(await counterValue(h.metrics.requests, labels)).toBe(2);
    expect(await counterValue(h.metrics.tokens, { model: "gpt-4o-mini", kind: "input" })).toBe(2000);
    expect(await counterValue(h.metrics.tokens, { model: "gpt-4o-mini", kind: "output" })).toBe(1000);
    expect(await counterValue(h.metrics.costUsd, { model: "gpt-4o-mini" })).toBeGreaterThan(0);
    const overhead = (await h.metrics.overhead.get()).values.find((v) => v.metricName === "llmgw_edge_overhead_seconds_count" && v.labels.stream === "false");
    expect(overhead?.value).toBe(2);
  });

  it("does not cache a truncated answer (finish_reason length)", async () => {
    const h = await harness({ executions: [answered(completion("gpt-4o-mini", "2+2 is", "length"))] });
    const res = json(await h.pipeline.handle(chatCall()));
    expect(res.body.choices[0]?.finish_reason).toBe("length");
    expect(one(await h.completed()).httpStatus).toBe(200);
    await sleep(10);
    expect(h.calls.store).toEqual([]);
  });

  it.each([
    ["x-llmgw-cache: off", CacheControl.OFF, 0],
    ["Cache-Control: no-store", CacheControl.NO_STORE, 1],
  ])("does not cache with %s", async (_name, control, lookups) => {
    const h = await harness();
    const res = json(await h.pipeline.handle(chatCall({}, { cacheControl: control })));
    expect(res.headers["x-llmgw-cache"]).toBe(lookups === 0 ? "bypass" : "miss");
    expect(h.calls.lookup).toHaveLength(lookups);
    expect(one(await h.completed()).httpStatus).toBe(200);
    await sleep(10);
    expect(h.calls.store).toEqual([]);
  });

  it("refresh skips the lookup but stores the fresh answer", async () => {
    const h = await harness();
    const res = json(await h.pipeline.handle(chatCall({}, { cacheControl: CacheControl.REFRESH })));
    expect(res.headers["x-llmgw-cache"]).toBe("bypass");
    expect(h.calls.lookup).toEqual([]);
    await until(() => h.calls.store.length > 0);
    expect(one(h.calls.store).key?.control).toBe(CacheControl.REFRESH);
  });

  it("a concrete model is its own cache scope and its own baseline", async () => {
    const h = await harness({ route: { candidates: [cand("gpt-4o-mini")], tier: Tier.MEDIUM, referenceModel: "gpt-4o" } });
    await h.pipeline.handle(chatCall({ model: "gpt-4o-mini" }));
    expect(one(h.calls.lookup).key?.scope).toBe("gpt-4o-mini");
    expect(one(await h.completed()).baselineModel).toBe("gpt-4o-mini");
  });

  it("a cache outage costs a lookup, never the answer (bypass, counted)", async () => {
    const h = await harness({ lookup: new ConnectError("cache down", Code.Unavailable) });
    const res = json(await h.pipeline.handle(chatCall()));
    expect(res.headers["x-llmgw-cache"]).toBe("bypass");
    expect(one(h.calls.execute).purpose).toBe("primary");
    expect(await counterValue(h.metrics.degraded, { dependency: "cache" })).toBe(1);
    expect(one(await h.completed()).cacheOutcome).toBe("bypass");
  });

  it("a router answer with no candidates is a 400 no_capable_model before any reservation", async () => {
    const h = await harness({ route: { candidates: [], tier: Tier.MEDIUM, reasons: ["context window"] } });
    const e = await rejection(h.pipeline.handle(chatCall()));
    expect(e).toBeInstanceOf(GatewayError);
    expect(e).toMatchObject({ status: 400, code: "no_capable_model" });
    expect(h.calls.reserve).toEqual([]);
    expect(h.calls.execute).toEqual([]);
  });
});

describe("ChatPipeline: a named model without a cache read", () => {
  const named = { model: "gpt-4o-mini" } as const;
  const classified = defaultScript().classify as MessageInitShape<typeof ClassifyResponseSchema>;

  it("classifies, routes and reserves side by side (routing a named model does not wait for its class)", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const h = await harness({ classify: async () => (await gate, classified), route: { candidates: [cand("gpt-4o-mini")], reasons: ["model gpt-4o-mini requested"], referenceModel: "gpt-4o-mini" } });
    const pending = h.pipeline.handle(chatCall(named, { cacheControl: CacheControl.OFF }));
    await until(() => h.calls.route.length === 1 && h.calls.reserve.length === 1);
    expect(h.calls.execute).toEqual([]);
    expect(h.calls.route[0]?.tier).toBe(Tier.UNSPECIFIED);
    release();
    const res = json(await pending);
    expect(res.headers["x-llmgw-tier"]).toBe("MEDIUM");
    expect(h.calls.lookup).toEqual([]);
    expect(one(h.calls.execute).candidates.map((c) => c.model)).toEqual(["gpt-4o-mini"]);
    const ev = one(await h.completed());
    expect([ev.tier, ev.category, ev.budgetReserved]).toEqual([Tier.MEDIUM, "math", true]);
  });

  it("with the route's tier, answers before classifying: the class is made for the hooks, after the answer", async () => {
    const executedBeforeClassify: number[] = [];
    let executed = (): number => -1;
    const h = await harness({
      classify: async () => (executedBeforeClassify.push(executed()), classified),
      route: { candidates: [cand("gpt-4o-mini")], tier: Tier.MEDIUM, reasons: ["model gpt-4o-mini requested"], referenceModel: "gpt-4o-mini" },
    });
    executed = () => h.calls.execute.length;
    const res = json(await h.pipeline.handle(chatCall(named, { cacheControl: CacheControl.REFRESH })));
    expect(executedBeforeClassify).toEqual([1]);
    expect(res.headers["x-llmgw-tier"]).toBe("MEDIUM");
    expect(h.calls.execute.length).toBe(1);
    const ev = one(await h.completed());
    expect([ev.tier, ev.category, ev.confidence, ev.budgetReserved]).toEqual([Tier.MEDIUM, "math", 0.8, true]);
    // The refresh stores the answer under the key made from the late class.
    await until(() => h.calls.store.length > 0);
    expect(one(h.calls.store).key).toMatchObject({ scope: "gpt-4o-mini", category: "math", control: CacheControl.REFRESH });
  });

  it("with `defer`, the class is made when the deferred hooks run, not before the answer", async () => {
    const deferred: (() => void)[] = [];
    const h = await harness({ route: { candidates: [cand("gpt-4o-mini")], tier: Tier.MEDIUM, reasons: ["model gpt-4o-mini requested"], referenceModel: "gpt-4o-mini" } }, undefined, undefined, (run) => deferred.push(run));
    json(await h.pipeline.handle(chatCall(named, { cacheControl: CacheControl.OFF })));
    expect(h.calls.execute.length).toBe(1);
    expect(h.calls.classify).toEqual([]);
    for (const run of deferred.splice(0)) run();
    // idle() (the drain awaits it) resolves once the late class is made and the hooks have run.
    await h.pipeline.idle();
    expect(h.outbox.pending() + (await h.published()).length).toBeGreaterThan(0);
    const ev = one(await h.completed());
    expect(one(h.calls.classify).maxTokens).toBeGreaterThan(0);
    expect([ev.tier, ev.category]).toEqual([Tier.MEDIUM, "math"]);
  });

  it("a classifier failure after the answer still records the request (unclassified) and settles it", async () => {
    const h = await harness({
      classify: async () => {
        throw new ConnectError("classifier down", Code.Unavailable);
      },
      route: { candidates: [cand("gpt-4o-mini")], tier: Tier.MEDIUM, reasons: ["model gpt-4o-mini requested"], referenceModel: "gpt-4o-mini" },
    });
    const res = json(await h.pipeline.handle(chatCall(named, { cacheControl: CacheControl.OFF })));
    expect(res.headers["x-llmgw-tier"]).toBe("MEDIUM");
    const ev = one(await h.completed());
    expect([ev.tier, ev.category, ev.httpStatus, ev.budgetReserved]).toEqual([Tier.MEDIUM, "", 200, true]);
    expect(await counterValue(h.metrics.degraded, { dependency: "classifier" })).toBe(1);
  });

  it("a classifier failure before the answer (route without a tier) gives back the reservation", async () => {
    const h = await harness({
      classify: async () => {
        throw new ConnectError("classifier down", Code.Unavailable);
      },
      route: { candidates: [cand("gpt-4o-mini")], reasons: ["model gpt-4o-mini requested"], referenceModel: "gpt-4o-mini" },
    });
    await rejection(h.pipeline.handle(chatCall(named, { cacheControl: CacheControl.OFF })));
    await until(() => h.calls.settle.length === 1);
    expect(one(h.calls.settle)).toMatchObject({ actualUsd: "" });
    expect(h.calls.execute).toEqual([]);
  });

  it("a router refusal gives back the reservation made beside it", async () => {
    const h = await harness({ route: new ConnectError("does not fit", Code.InvalidArgument) });
    await rejection(h.pipeline.handle(chatCall(named, { cacheControl: CacheControl.OFF })));
    await until(() => h.calls.settle.length === 1);
    expect(one(h.calls.settle)).toMatchObject({ actualUsd: "" });
    expect(h.calls.execute).toEqual([]);
  });

  it("a refused reservation is a 429 even when the route succeeded", async () => {
    const h = await harness({ reserve: { admitted: false, state: "hard", message: "over" } });
    const e = await rejection(h.pipeline.handle(chatCall(named, { cacheControl: CacheControl.OFF })));
    expect(e).toMatchObject({ status: 429, code: "insufficient_quota" });
    expect(h.calls.execute).toEqual([]);
  });
});

describe("ChatPipeline: exact cache hit", () => {
  it("answers from the cache without the router, the ledger or the executor", async () => {
    const cached = completion("gpt-4o-mini", "4", "stop", { prompt_tokens: 12, completion_tokens: 3 });
    const h = await harness({ lookup: { hit: true, layer: "exact", similarity: 1, completionJson: JSON.stringify(cached), model: "gpt-4o-mini" } });
    const call = chatCall();
    const res = json(await h.pipeline.handle(call));

    expect(res.body.id).toBe(`chatcmpl-${call.requestId}`);
    expect(res.body.choices[0]?.message.content).toBe("4");
    expect(res.headers).toMatchObject({ "x-llmgw-cache": "hit-exact", "x-llmgw-cost-usd": "0", "x-llmgw-model": "gpt-4o-mini", "x-llmgw-tier": "MEDIUM", "x-llmgw-cache-similarity": "1.0000" });
    expect(h.calls.route).toEqual([]);
    expect(h.calls.reserve).toEqual([]);
    expect(h.calls.settle).toEqual([]);
    expect(h.calls.execute).toEqual([]);

    const ev = one(await h.completed());
    expect(ev.cacheOutcome).toBe("hit_exact");
    expect(ev.provider).toBe("cache");
    expect(ev.httpStatus).toBe(200);
    expect(ev.budgetReserved).toBe(false);
    expect(ev.calls).toEqual([]);
    expect(ev.answerUsage).toMatchObject({ inputTokens: 12n, outputTokens: 3n });
    expect(ev.baselineModel).toBe(config.routing.reference_model); // the router was never asked
    await sleep(10);
    expect(h.calls.store).toEqual([]);
  });

  it("a semantic hit says hit-semantic", async () => {
    const h = await harness({ lookup: { hit: true, layer: "semantic", similarity: 0.95, completionJson: JSON.stringify(MINI), model: "gpt-4o-mini" } });
    const res = json(await h.pipeline.handle(chatCall()));
    expect(res.headers["x-llmgw-cache"]).toBe("hit-semantic");
    expect(res.headers["x-llmgw-cache-similarity"]).toBe("0.9500");
    expect(one(await h.completed()).cacheOutcome).toBe("hit_semantic");
  });
});

describe("ChatPipeline: cache audits", () => {
  const semanticHit = { lookup: { hit: true, layer: "semantic", similarity: 0.95, completionJson: JSON.stringify(MINI), model: "gpt-4o-mini", category: "static_knowledge", matchedQuestion: "What's 2 + 2?", entryId: "entry-22" } };

  it("a sampled semantic hit asks the evaluator to replay it on the model that wrote the cached answer", async () => {
    const h = await harness(semanticHit, undefined, undefined, undefined, { shadow: { cache_audit_rate: 0.05 }, random: () => 0.01 });
    const call = chatCall();
    await h.pipeline.handle(call);
    const audit = one(await h.shadows());
    // Under the cache's category (where its thresholds and the wrong-hit bound apply), not the task's ("math").
    expect(audit).toMatchObject({ cacheAudit: true, servedModel: "gpt-4o-mini", candidateModel: "gpt-4o-mini", category: "static_knowledge", upward: false });
    expect(audit.cacheSimilarity).toBeCloseTo(0.95, 6);
    expect(audit.cacheQuestion).toBe("What's 2 + 2?");
    expect(audit.cacheEntry).toBe("entry-22");
    expect(audit.context?.requestId).toBe(call.requestId);
    expect(JSON.parse(decoder.decode(audit.requestJson))).toEqual(call.body);
    // The cached answer as the cache holds it (not the copy re-stamped with this request's id).
    expect(JSON.parse(decoder.decode(audit.servedCompletionJson))).toEqual(MINI);
  });

  it("asks for none when the draw misses the rate, the rate is 0, the hit is exact or the tenant is excluded", async () => {
    const exact = { lookup: { ...semanticHit.lookup, layer: "exact", similarity: 1 } };
    const cases = [
      await harness(semanticHit, undefined, undefined, undefined, { shadow: { cache_audit_rate: 0.05 }, random: () => 0.05 }),
      await harness(semanticHit, undefined, undefined, undefined, { random: () => 0 }),
      await harness(exact, undefined, undefined, undefined, { shadow: { cache_audit_rate: 1 }, random: () => 0 }),
      await harness(semanticHit, undefined, undefined, undefined, { shadow: { cache_audit_rate: 1, exclude_tenants: ["acme"] }, random: () => 0 }),
    ];
    for (const h of cases) {
      await h.pipeline.handle(chatCall());
      expect(await h.shadows()).toEqual([]);
      expect(await h.completed()).toHaveLength(1);
    }
  });
});

describe("ChatPipeline: cascade", () => {
  const cascadeRoute = (): Script["route"] => ({
    candidates: [cand("gpt-4o-mini")],
    escalation: [cand("gpt-4o")],
    cascade: true,
    tier: Tier.MEDIUM,
    reasons: ["cascade"],
    referenceModel: "gpt-4o",
  });
  const GPT4O = completion("gpt-4o", "The answer is 4.", "stop");

  it.each([
    ["truncated", completion("gpt-4o-mini", "The answer", "length")],
    ["empty", completion("gpt-4o-mini", "", "stop")],
  ])("a first answer that fails verification (%s) is escalated", async (failure, first) => {
    const h = await harness({ route: cascadeRoute(), executions: [answered(first), answered(GPT4O)] });
    const call = chatCall({ max_tokens: 100 });
    const res = json(await h.pipeline.handle(call));

    expect(h.calls.execute.map((e) => [e.purpose, e.candidates.map((c) => c.model)])).toEqual([
      ["cascade_first", ["gpt-4o-mini"]],
      ["escalation", ["gpt-4o"]],
    ]);
    expect(res.body.choices[0]?.message.content).toBe("The answer is 4.");
    expect(res.headers["x-llmgw-model"]).toBe("gpt-4o");
    expect(res.headers["x-llmgw-route-reasons"]).toBe(`cascade; escalated: ${failure}`);
    // Both calls are paid: 0.00045 (gpt-4o-mini) + 1000 × $2.50 + 500 × $10 per 1M (gpt-4o).
    expect(res.headers["x-llmgw-cost-usd"]).toBe("0.00795");
    // The reservation covers both: gpt-4o's 100 output tokens alone are $0.001.
    expect(Number(one(h.calls.reserve).amountUsd)).toBeGreaterThan((100 * 0.6 + 100 * 10) / 1e6);

    const ev = one(await h.completed());
    expect(ev.cascaded).toBe(true);
    expect(ev.escalated).toBe(true);
    expect(ev.model).toBe("gpt-4o");
    expect(ev.calls.map((c) => [c.kind, c.model])).toEqual([
      ["cascade_first", "gpt-4o-mini"],
      ["escalation", "gpt-4o"],
    ]);
    expect(ev.answerUsage).toMatchObject({ inputTokens: 1000n, outputTokens: 500n });
    expect(await counterValue(h.metrics.escalations, { from: "gpt-4o-mini", to: "gpt-4o" })).toBe(1);
  });

  it("the bytes the route sends are the served answer's JSON (the escalation's, not the first call's)", async () => {
    const h = await harness({ route: cascadeRoute(), executions: [answered(completion("gpt-4o-mini", "The answer", "length")), answered(GPT4O)] });
    const res = json(await h.pipeline.handle(chatCall({ max_tokens: 100 })));
    const bytes = answerBytes(res);
    expect(bytes && decoder.decode(bytes)).toBe(JSON.stringify(res.body));
    expect(res.body.choices[0]?.message.content).toBe("The answer is 4.");
  });

  it("an escalation that fails serves the first answer and records it with its own usage", async () => {
    const first = completion("gpt-4o-mini", "The answer", "length", { prompt_tokens: 900, completion_tokens: 100 });
    for (const second of [failed(503, "gpt-4o"), new ConnectError("executor gone", Code.Unavailable)]) {
      const h = await harness({ route: cascadeRoute(), executions: [answered(first), second] });
      const res = json(await h.pipeline.handle(chatCall()));
      expect(res.body.choices[0]?.message.content).toBe("The answer");
      expect(res.headers["x-llmgw-model"]).toBe("gpt-4o-mini");
      const ev = one(await h.completed());
      expect(ev.httpStatus).toBe(200);
      expect(ev.escalated).toBe(true);
      expect(ev.model).toBe("gpt-4o-mini");
      // The served answer's usage prices the baseline, not the failed escalation's (absent) one.
      expect(ev.answerUsage).toMatchObject({ inputTokens: 900n, outputTokens: 100n });
      expect(ev.calls[0]).toMatchObject({ kind: "cascade_first", model: "gpt-4o-mini" });
      expect(h.calls.settle).toEqual([]);
    }
  });

  it("a first answer that passes is served without escalation", async () => {
    const h = await harness({ route: cascadeRoute(), executions: [answered(MINI), answered(GPT4O)] });
    const res = json(await h.pipeline.handle(chatCall()));
    expect(one(h.calls.execute).purpose).toBe("cascade_first");
    expect(res.headers["x-llmgw-model"]).toBe("gpt-4o-mini");
    const ev = one(await h.completed());
    expect(ev.cascaded).toBe(true);
    expect(ev.escalated).toBe(false);
  });
});

describe("ChatPipeline: shadow tests", () => {
  const shadowRoute = (shadow: string[]): Script["route"] => ({
    candidates: [cand("gpt-4o")],
    tier: Tier.HIGH,
    referenceModel: "gpt-4o",
    shadowCandidates: shadow.map((m) => cand(m)),
  });
  const GPT4O = completion("gpt-4o", "4", "stop");

  it("publishes one ShadowTestRequested per candidate with the served model and answer", async () => {
    const h = await harness({ route: shadowRoute(["gpt-4o-mini", "claude-3-5-haiku-latest"]), executions: [answered(GPT4O)] });
    const call = chatCall();
    await h.pipeline.handle(call);
    const shadows = await h.shadows();
    expect(shadows.map((s) => s.candidateModel)).toEqual(["gpt-4o-mini", "claude-3-5-haiku-latest"]);
    for (const s of shadows) {
      expect(s.servedModel).toBe("gpt-4o");
      expect(s.context?.requestId).toBe(call.requestId);
      expect(s.tier).toBe(Tier.HIGH);
      expect(s.category).toBe("math");
      expect(JSON.parse(decoder.decode(s.requestJson))).toEqual(call.body);
      expect(JSON.parse(decoder.decode(s.servedCompletionJson))).toEqual(GPT4O);
    }
    expect(one(await h.completed()).httpStatus).toBe(200);
  });

  it("publishes none when the router did not sample the request", async () => {
    const h = await harness({ route: shadowRoute([]), executions: [answered(GPT4O)] });
    await h.pipeline.handle(chatCall());
    expect(await h.shadows()).toEqual([]);
    expect(await h.completed()).toHaveLength(1);
  });

  it("publishes none when the request failed", async () => {
    const h = await harness({ route: shadowRoute(["gpt-4o-mini"]), executions: [failed(502, "gpt-4o")] });
    await expect(h.pipeline.handle(chatCall())).rejects.toBeInstanceOf(GatewayError);
    expect(await h.shadows()).toEqual([]);
    expect(one(await h.completed()).httpStatus).toBe(502);
  });

  it("skips a candidate that is the served model itself", async () => {
    const h = await harness({ route: shadowRoute(["gpt-4o", "gpt-4o-mini"]), executions: [answered(GPT4O)] });
    await h.pipeline.handle(chatCall());
    expect((await h.shadows()).map((s) => s.candidateModel)).toEqual(["gpt-4o-mini"]);
  });
});

describe("ChatPipeline: failures", () => {
  it("an executor failure rejects with its status; RequestCompleted still goes out and the ledger releases", async () => {
    const h = await harness({ executions: [failed(502)] });
    const call = chatCall();
    const e = await rejection(h.pipeline.handle(call));
    expect(e).toBeInstanceOf(GatewayError);
    expect(e).toMatchObject({ status: 502, code: "upstream_error", message: "provider exploded" });

    const ev = one(await h.completed());
    expect(ev.context?.requestId).toBe(call.requestId);
    expect(ev.httpStatus).toBe(502);
    expect(ev.errorCode).toBe("upstream_error");
    expect(ev.budgetReserved).toBe(true);
    expect(ev.calls.map((c) => [c.model, c.status])).toEqual([["gpt-4o-mini", "error"]]);
    // The model tried names the failed request (the summary is absent on a failure).
    expect([ev.model, ev.provider]).toEqual(["gpt-4o-mini", "openai"]);
    expect(h.calls.settle).toEqual([]);
    expect(h.calls.store).toEqual([]);
  });

  it("the executor RPC failing releases the reservation itself (no event will settle it)", async () => {
    const h = await harness({ executions: [new ConnectError("executor down", Code.Unavailable)] });
    const call = chatCall();
    const e = await rejection(h.pipeline.handle(call));
    expect(e).toBeInstanceOf(ConnectError);
    expect((e as ConnectError).code).toBe(Code.Unavailable);
    await until(() => h.calls.settle.length > 0);
    expect(one(h.calls.settle)).toMatchObject({ reservationId: call.requestId, actualUsd: "" });
    expect(await h.completed()).toEqual([]);
  });

  it("the ledger refusing the reservation is a 429 insufficient_quota, with no execution", async () => {
    const h = await harness({ reserve: { admitted: false, state: "hard", message: "Monthly budget of acme exhausted." } });
    const e = await rejection(h.pipeline.handle(chatCall()));
    expect(e).toBeInstanceOf(GatewayError);
    expect(e).toMatchObject({ status: 429, type: "insufficient_quota", code: "insufficient_quota", message: "Monthly budget of acme exhausted." });
    expect(h.calls.reserve).toHaveLength(1);
    expect(h.calls.execute).toEqual([]);
    expect(h.calls.settle).toEqual([]);
  });

  it("the budget state the ledger returned is sent to the router on the next request", async () => {
    const h = await harness({ reserve: { admitted: true, state: "soft" } });
    await h.pipeline.handle(chatCall());
    await h.pipeline.handle(chatCall());
    expect(h.calls.route.map((r) => r.budgetState)).toEqual(["ok", "soft"]);
  });

  it.each(["local", "closed"] as const)("the ledger RPC failing is a 503 with no execution under budgets.outage_mode %s (the default is local)", async (mode) => {
    const h = await harness({ reserve: new ConnectError("ledger down", Code.Unavailable) }, undefined, mode);
    const e = await rejection(h.pipeline.handle(chatCall()));
    expect(e).toMatchObject({ status: 503, type: "service_unavailable", code: "service_unavailable" });
    expect(h.calls.execute).toEqual([]);
    expect(await counterValue(h.metrics.degraded, { dependency: "budget" })).toBe(1);
  });

  it("the ledger RPC failing admits the request under outage_mode open (counted) without a reservation", async () => {
    const h = await harness({ reserve: new ConnectError("ledger down", Code.Unavailable) }, undefined, "open");
    const res = json(await h.pipeline.handle(chatCall()));
    expect(res.headers["x-llmgw-model"]).toBe("gpt-4o-mini");
    expect(h.calls.execute).toHaveLength(1);
    expect(await counterValue(h.metrics.degraded, { dependency: "budget" })).toBe(1);
    const ev = one(await h.completed());
    expect(ev.budgetReserved).toBe(false);
    expect(ev.httpStatus).toBe(200);
  });

  it("the router rejecting the request (InvalidArgument) rejects the call: no reservation, no execution", async () => {
    const h = await harness({ route: new ConnectError("bad tier", Code.InvalidArgument) });
    const e = await rejection(h.pipeline.handle(chatCall()));
    expect(e).toBeInstanceOf(ConnectError);
    expect((e as ConnectError).code).toBe(Code.InvalidArgument);
    expect(h.calls.reserve).toEqual([]);
    expect(h.calls.execute).toEqual([]);
    expect(await h.completed()).toEqual([]);
  });

  it("an unknown concrete model is a 404 before any RPC", async () => {
    const h = await harness();
    const e = await rejection(h.pipeline.handle(chatCall({ model: "no-such-model" })));
    expect(e).toBeInstanceOf(GatewayError);
    expect(e).toMatchObject({ status: 404 });
    expect(h.calls.classify).toEqual([]);
  });
});

describe("ChatPipeline: custom hooks", () => {
  it("runs exactly the given hooks with the record and the outcome", async () => {
    const seen: [ChatRecord, ChatOutcome][] = [];
    const h = await harness({}, [(rec, out) => seen.push([rec, out])]);
    const call = chatCall();
    await h.pipeline.handle(call);

    const [rec, out] = one(seen);
    expect(rec.call).toBe(call);
    expect(rec.cacheOutcome).toBe("miss");
    expect(rec.reserved).toBe(true);
    expect(rec.finished).toBe(true);
    expect(rec.route?.candidates.map((c) => c.model)).toEqual(["gpt-4o-mini", "claude-3-5-haiku-latest"]);
    expect(out).toMatchObject({ status: 200, errorCode: "", model: "gpt-4o-mini", provider: "openai", escalated: false, stream: false, costUsd: "0.00045" });
    expect(out.completion).toEqual(MINI);
    expect(out.runs.map((r) => r.purpose)).toEqual(["primary"]);

    // The default hooks did not run: no event, no cache store, no request counted.
    expect(await h.published()).toEqual([]);
    expect(h.calls.store).toEqual([]);
    expect(await counterValue(h.metrics.requests, {})).toBe(0);
  });

  it("a throwing hook does not fail the request, and later hooks still run", async () => {
    const ran: string[] = [];
    const h = await harness({}, [
      () => {
        throw new Error("hook bug");
      },
      (_rec, out) => ran.push(out.model),
    ]);
    const res = json(await h.pipeline.handle(chatCall()));
    expect(res.headers["x-llmgw-model"]).toBe("gpt-4o-mini");
    expect(ran).toEqual(["gpt-4o-mini"]);
  });

  it("with `defer` (the edge passes setImmediate) the hooks run when the deferred callback does, after the answer", async () => {
    const later: (() => void)[] = [];
    const seen: string[] = [];
    const h = await harness({}, [(rec, out) => seen.push(`${out.model}:${String(rec.finished)}`)], undefined, (run) => later.push(run));
    const res = json(await h.pipeline.handle(chatCall()));
    expect(res.headers["x-llmgw-model"]).toBe("gpt-4o-mini");
    // Answered, hooks not run yet: one callback waits.
    expect(seen).toEqual([]);
    one(later)();
    expect(seen).toEqual(["gpt-4o-mini:true"]);
  });
});

describe("ChatPipeline: fallbacks in the route reasons", () => {
  it("names the model the executor moved on to, and why, in x-llmgw-route-reasons (JSON)", async () => {
    const c = completion("claude-3-5-haiku-latest", "4", "stop");
    const [done, sum] = answered(c);
    if (sum?.event?.case !== "summary") throw new Error("expected a summary");
    sum.event.value.attempts = [{ model: "gpt-4o-mini", provider: "openai", status: "error", httpStatus: 400, errorCode: "context_length_exceeded", latencyMs: 5n }, ...(sum.event.value.attempts ?? [])];
    const h = await harness({ executions: [[done!, sum]] });
    const res = json(await h.pipeline.handle(chatCall()));
    expect(res.headers["x-llmgw-model"]).toBe("claude-3-5-haiku-latest");
    expect(res.headers["x-llmgw-route-reasons"]).toBe("cheapest capable; fallback: gpt-4o-mini context_length_exceeded -> claude-3-5-haiku-latest");
  });

  it("and in a stream's headers, when another model started it", async () => {
    const c = completion("claude-3-5-haiku-latest", "Four.", "stop");
    const h = await harness({ executions: [streamed(c, ["Four."])] });
    const res = await h.pipeline.handle(chatCall({ model: "auto", messages: [{ role: "user", content: "What is 2+2?" }], stream: true }));
    if (res.type !== "stream") throw new Error("expected a stream");
    for await (const _ of res.chunks) void _;
    expect(res.headers["x-llmgw-route-reasons"]).toBe("cheapest capable; fallback: gpt-4o-mini -> claude-3-5-haiku-latest");
  });
});

describe("ChatPipeline: streaming", () => {
  it("forwards the chunks and publishes RequestCompleted once the stream has ended", async () => {
    const c = completion("gpt-4o-mini", "Four.", "stop");
    const h = await harness({ executions: [streamed(c, ["Fo", "ur."])] });
    const call = chatCall({ model: "auto", messages: [{ role: "user", content: "What is 2+2?" }], stream: true });
    const res = await h.pipeline.handle(call);
    if (res.type !== "stream") throw new Error(`expected a stream, got ${res.type}`);

    expect(res.headers["x-llmgw-model"]).toBe("gpt-4o-mini");
    expect(res.headers["x-llmgw-cache"]).toBe("miss");
    expect(res.headers["x-llmgw-cost-usd"]).toBeUndefined(); // unknown before the end
    const exec = one(h.calls.execute);
    expect(exec.stream).toBe(true);
    expect(exec.purpose).toBe("primary");
    expect(one(h.calls.route).stream).toBe(true);
    expect(one(h.calls.route).requiredCapabilities).toContain("streaming");

    // Nothing is published while the stream is open.
    expect(await h.completed()).toEqual([]);

    const chunks: string[] = [];
    for await (const s of res.chunks) chunks.push(s);
    const parsed = chunks.map((s) => JSON.parse(s) as OpenAI.Chat.ChatCompletionChunk);
    expect(parsed.map((p) => p.choices[0]?.delta.content ?? "").join("")).toBe("Four.");
    expect(parsed.at(-1)?.choices[0]?.finish_reason).toBe("stop");

    const ev = one(await h.completed());
    expect(ev.stream).toBe(true);
    expect(ev.cascaded).toBe(false);
    expect(ev.httpStatus).toBe(200);
    expect(ev.model).toBe("gpt-4o-mini");
    expect(ev.budgetReserved).toBe(true);
    expect(ev.answerUsage).toMatchObject({ inputTokens: 1000n, outputTokens: 500n });
    await until(() => h.calls.store.length > 0);
    expect(JSON.parse(one(h.calls.store).completionJson)).toEqual(c);
    expect(h.calls.settle).toEqual([]);
  });

  it("is never cascaded, even when the router asks", async () => {
    const c = completion("gpt-4o-mini", "x", "length");
    const h = await harness({
      route: { candidates: [cand("gpt-4o-mini")], escalation: [cand("gpt-4o")], cascade: true, tier: Tier.MEDIUM },
      executions: [streamed(c, ["x"])],
    });
    const res = await h.pipeline.handle(chatCall({ model: "auto", messages: [{ role: "user", content: "hi" }], stream: true }));
    if (res.type !== "stream") throw new Error("expected a stream");
    for await (const _ of res.chunks) void _;
    expect(one(h.calls.execute).purpose).toBe("primary");
    const ev = one(await h.completed());
    expect(ev.cascaded).toBe(false);
    expect(ev.escalated).toBe(false);
  });

  it("a failure before the first chunk is an HTTP error, with its RequestCompleted", async () => {
    const h = await harness({ executions: [failed(503)] });
    const e = await rejection(h.pipeline.handle(chatCall({ model: "auto", messages: [{ role: "user", content: "hi" }], stream: true })));
    expect(e).toMatchObject({ status: 503 });
    const ev = one(await h.completed());
    expect(ev.httpStatus).toBe(503);
    expect(ev.stream).toBe(true);
    expect(ev.budgetReserved).toBe(true);
    expect(h.calls.settle).toEqual([]);
  });

  it("a cache hit on a streaming request replays the cached answer as chunks", async () => {
    const h = await harness({ lookup: { hit: true, layer: "exact", similarity: 1, completionJson: JSON.stringify(MINI), model: "gpt-4o-mini" } });
    const res = await h.pipeline.handle(chatCall({ model: "auto", messages: [{ role: "user", content: "What is 2+2?" }], stream: true }));
    if (res.type !== "stream") throw new Error("expected a stream");
    const text: string[] = [];
    for await (const s of res.chunks) text.push((JSON.parse(s) as OpenAI.Chat.ChatCompletionChunk).choices[0]?.delta.content ?? "");
    expect(text.join("")).toBe("4");
    expect(res.headers["x-llmgw-cache"]).toBe("hit-exact");
    expect(h.calls.execute).toEqual([]);
    expect(one(await h.completed()).stream).toBe(true);
  });
});
