// RouterService through Connect (in-process router transport): the real policy over the shipped
// config and price table, with a health function standing in for the executor's breaker states.
import { describe, expect, it } from "vitest";
import { Code, ConnectError, createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { ERROR_METADATA } from "#libs/errors/connect-to-openai.ts";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { loadConfig } from "#libs/config/load.ts";
import { Tier } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import { RouterService, type RouteRequestSchema } from "#libs/gen/llmgw/router/v1/router_pb.ts";
import { silentLogger } from "#libs/log/logger.ts";
import { loadPriceTable } from "#libs/pricing/index.ts";
import { modelViews } from "./domain/models.ts";
import { SessionStore } from "./domain/sessions.ts";
import type { BreakerState } from "./domain/types.ts";
import { RouterServiceImpl } from "./service.ts";

const config = loadConfig({ env: {} });
const models = modelViews(config, loadPriceTable());

/** A fresh router (own session store); `open` lists models whose breaker is open. */
function routerClient(open: readonly string[] = []): Client<typeof RouterService> {
  const health = (model: string): BreakerState => (open.includes(model) ? "open" : "closed");
  const impl = new RouterServiceImpl({ config, models, health, sessions: new SessionStore() }, silentLogger());
  return createClient(RouterService, createRouterTransport((router) => router.service(RouterService, impl)));
}

type RouteInit = MessageInitShape<typeof RouteRequestSchema>;
interface RoutePatch {
  requestedModel?: string;
  tier?: Tier;
  category?: string;
  inputTokens?: bigint;
  maxTokens?: number;
  requiredCapabilities?: string[];
  sessionId?: string;
  strategy?: string;
  stream?: boolean;
  budgetState?: string;
}

const route = (over: RoutePatch = {}): RouteInit => ({
  context: { requestId: "r1", tenantId: "acme", keyId: "k1" },
  requestedModel: "auto",
  tier: Tier.LOW,
  category: "chat",
  inputTokens: 20n,
  maxTokens: 256,
  budgetState: "ok",
  ...over,
});

const ids = (list: { model: string }[]): string[] => list.map((c) => c.model);

describe("RouterService.Route", () => {
  it("sends LOW to the cheapest LOW model with the rest as fallbacks", async () => {
    const r = await routerClient().route(route());
    expect(r.candidates[0]).toMatchObject({ model: "small-8k", provider: "local", upstreamModel: "small-8k", contextWindow: 8192n });
    expect(ids(r.candidates)).toEqual(expect.arrayContaining(["gpt-4.1-nano", "gpt-4o-mini"]));
    expect(r.tier).toBe(Tier.LOW);
    expect(r.cascade).toBe(false);
    expect(r.escalation).toEqual([]);
    expect(r.referenceModel).toBe("gpt-4o");
    expect(r.reasons.join("\n")).toContain("LOW -> small-8k (cost)");
  });

  it("cascades MEDIUM (non-streaming) from a MEDIUM model and escalates to the next tier", async () => {
    const r = await routerClient().route(route({ tier: Tier.MEDIUM }));
    expect(r.cascade).toBe(true);
    expect(r.candidates[0]?.model).toBe("gpt-4o-mini");
    expect(ids(r.candidates).every((m) => config.routing.tiers.MEDIUM?.includes(m))).toBe(true);
    expect(r.escalation[0]?.model).toBe("gpt-4o");
    expect(ids(r.escalation)).not.toContain("gpt-4o-mini");
  });

  it("does not cascade a stream", async () => {
    const r = await routerClient().route(route({ tier: Tier.MEDIUM, stream: true }));
    expect(r.cascade).toBe(false);
    expect(r.escalation).toEqual([]);
    expect(r.candidates[0]?.model).toBe("gpt-4o-mini");
  });

  it("honours a concrete model and makes it the reference", async () => {
    const r = await routerClient().route(route({ requestedModel: "claude-sonnet-4-5", tier: Tier.LOW }));
    expect(r.candidates).toHaveLength(1);
    expect(r.candidates[0]).toMatchObject({ model: "claude-sonnet-4-5", provider: "anthropic", contextWindow: 200000n });
    expect(r.referenceModel).toBe("claude-sonnet-4-5");
    expect(r.cascade).toBe(false);
  });

  it("an unknown concrete model is NotFound with the OpenAI code model_not_found", async () => {
    const e = await routerClient().route(route({ requestedModel: "no-such-model" })).then(() => undefined, (x: unknown) => ConnectError.from(x));
    expect(e?.code).toBe(Code.NotFound);
    expect(e?.metadata.get(ERROR_METADATA.code)).toBe("model_not_found");
  });

  it("a concrete model is refused when the prompt does not fit it or it lacks a capability (decided here, once)", async () => {
    const refusal = async (over: Parameters<typeof route>[0]) => routerClient().route(route(over)).then(() => undefined, (x: unknown) => ConnectError.from(x));
    const big = await refusal({ requestedModel: "small-8k", inputTokens: 9_000n });
    expect([big?.code, big?.metadata.get(ERROR_METADATA.code), big?.metadata.get(ERROR_METADATA.param)]).toEqual([Code.InvalidArgument, "context_length_exceeded", "messages"]);
    const tools = await refusal({ requestedModel: "small-8k", requiredCapabilities: ["tools"] });
    expect([tools?.code, tools?.metadata.get(ERROR_METADATA.code)]).toEqual([Code.InvalidArgument, "unsupported_capability"]);
    expect((await routerClient().route(route({ requestedModel: "small-8k", inputTokens: 100n }))).candidates.map((c) => c.model)).toEqual(["small-8k"]);
  });

  it("skips models lacking a required capability or context window", async () => {
    const tools = await routerClient().route(route({ requiredCapabilities: ["tools"] }));
    expect(tools.candidates[0]?.model).toBe("gpt-4.1-nano");
    expect(tools.reasons.join("\n")).toContain("small-8k: lacks tools");

    const long = await routerClient().route(route({ inputTokens: 150_000n }));
    expect(long.candidates.length).toBeGreaterThan(0);
    expect(long.candidates.every((c) => c.contextWindow >= 150_000n)).toBe(true);

    const huge = await routerClient().route(route({ inputTokens: 5_000_000n })).then(() => undefined, (x: unknown) => ConnectError.from(x));
    expect(huge?.metadata.get(ERROR_METADATA.code)).toBe("context_length_exceeded");
  });

  it("skips a model whose breaker is open", async () => {
    const r = await routerClient(["small-8k"]).route(route());
    expect(ids(r.candidates)).not.toContain("small-8k");
    expect(r.candidates[0]?.model).toBe("gpt-4.1-nano");
    expect(r.reasons.join("\n")).toContain("small-8k: breaker open");
  });

  it("orders by the requested strategy", async () => {
    const client = routerClient();
    expect((await client.route(route({ tier: Tier.HIGH }))).candidates[0]?.model).toBe("gpt-4o");
    expect((await client.route(route({ tier: Tier.HIGH, strategy: "quality" }))).candidates[0]?.model).toBe("claude-sonnet-4-5");
    expect((await client.route(route({ tier: Tier.MEDIUM, strategy: "latency", stream: true }))).candidates[0]?.model).toBe("gpt-4o-mini");
  });

  it("never lets a conversation drop a tier", async () => {
    const client = routerClient();
    expect((await client.route(route({ tier: Tier.HIGH, sessionId: "s1" }))).tier).toBe(Tier.HIGH);
    const next = await client.route(route({ tier: Tier.LOW, sessionId: "s1" }));
    expect(next.tier).toBe(Tier.HIGH);
    expect(next.reasons.join("\n")).toContain("session stays at HIGH");
    // Another conversation is not affected.
    expect((await client.route(route({ tier: Tier.LOW, sessionId: "s2" }))).tier).toBe(Tier.LOW);
  });

  it("steps down a tier past the soft budget limit", async () => {
    const r = await routerClient().route(route({ tier: Tier.HIGH, budgetState: "soft" }));
    expect(r.tier).toBe(Tier.MEDIUM);
    expect(r.reasons.join("\n")).toContain("soft budget limit: HIGH -> MEDIUM");
  });

  it("routes an unspecified tier as MEDIUM", async () => {
    const r = await routerClient().route(route({ tier: Tier.UNSPECIFIED }));
    expect(r.tier).toBe(Tier.MEDIUM);
    expect(r.candidates[0]?.model).toBe("gpt-4o-mini");
  });

  it("ignores an unknown strategy or budget state (configured defaults apply) rather than failing", async () => {
    const client = routerClient();
    const r = await client.route(route({ tier: Tier.HIGH, strategy: "fastest", budgetState: "bankrupt" }));
    expect(r.tier).toBe(Tier.HIGH);
    expect(r.candidates[0]?.model).toBe("gpt-4o");
    expect(r.reasons.join("\n")).toContain("HIGH -> gpt-4o (cost)");
  });
});

describe("RouterService.ListModels", () => {
  it("lists the aliases first, then every configured model", async () => {
    const r = await routerClient().listModels({});
    const aliases = r.models.filter((m) => m.alias);
    expect(aliases.map((m) => m.id)).toEqual(config.edge.aliases);
    expect(r.models.slice(0, aliases.length).every((m) => m.alias)).toBe(true);
    for (const a of aliases) {
      expect(a.ownedBy).toBe("llmgw");
      // An alias can route to the largest window any model has.
      expect(a.contextWindow).toBe(1_047_576n);
    }
    const concrete = r.models.filter((m) => !m.alias);
    expect(concrete.map((m) => m.id).sort()).toEqual(Object.keys(config.models).sort());
    expect(concrete.find((m) => m.id === "claude-sonnet-4-5")).toMatchObject({ ownedBy: "anthropic", contextWindow: 200_000n, capabilities: ["tools", "streaming", "vision"] });
    expect(concrete.find((m) => m.id === "small-8k")).toMatchObject({ ownedBy: "local", contextWindow: 8192n, capabilities: ["streaming"] });
  });
});
