// One interface over either transport: every call goes through one official openai client (its
// retries, timeouts, AbortSignal and error classes), pointed at a gateway over HTTP (remote) or at
// the embedded gateway's edge in this process (in-process: see inject-fetch.ts). What the gateway
// says about each call comes back beside the answer as GatewayInfo.
import OpenAI from "openai";
import type { Budget, BudgetInput, CacheInvalidation, CacheQuality, CreatedKey, KeyInfo, List, Policy, PolicyInput, SavingsReport, ShadowReport, SpendQuery, SpendReport } from "./admin-types.ts";
import { infoFromHeaders, withTrailer, type GatewayInfo } from "./gateway-info.ts";

/** Per-call options (the openai client's): signal, maxRetries, timeout, headers such as x-llmgw-cache. */
export type CallOptions = OpenAI.RequestOptions;

export interface ClientOptions {
  apiKey: string;
  /** Retries of failed calls (429, 5xx, connection errors) with backoff; default 2. */
  maxRetries?: number;
  /** Per-attempt timeout in ms; default 10 minutes, as the openai client. */
  timeout?: number;
  /** Headers on every call, e.g. {"x-llmgw-cache": "off"}. */
  defaultHeaders?: Record<string, string>;
}

export interface WithGateway {
  gateway: GatewayInfo;
}

/**
 * A stream of events: iterate it; once it is over, `gateway()` has the cost the gateway put in its
 * last event (a chat stream's last chunk, a Responses stream's final response), since headers leave first.
 */
export class GatewayStream<E> implements AsyncIterable<E> {
  private info: GatewayInfo;
  private ended = false;

  constructor(
    private readonly stream: AsyncIterable<E>,
    headers: Headers,
    private readonly trailerOf: (event: E) => unknown,
    /** Cancels the stream (the gateway stops the provider call). */
    readonly controller: AbortController,
  ) {
    this.info = infoFromHeaders(headers);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<E> {
    for await (const event of this.stream) {
      const trailer = this.trailerOf(event);
      if (trailer !== undefined) this.info = withTrailer(this.info, trailer);
      yield event;
    }
    this.ended = true;
  }

  /** Gateway info: model, tier and route from the headers; cost, baseline and savings once the stream has ended. */
  gateway(): GatewayInfo {
    return this.ended ? this.info : { ...this.info, costUsd: null, baselineUsd: null, savingsUsd: null };
  }
}

/** A chat stream (chunks); the cost rides on its last chunk. */
export class ChatStream extends GatewayStream<OpenAI.Chat.ChatCompletionChunk> {
  constructor(stream: AsyncIterable<OpenAI.Chat.ChatCompletionChunk>, headers: Headers, controller: AbortController) {
    super(stream, headers, (c) => (c as { llmgw?: unknown }).llmgw, controller);
  }

  /** Reads the whole stream: its text and the gateway info. */
  async finalText(): Promise<{ text: string; gateway: GatewayInfo }> {
    let text = "";
    for await (const c of this) text += c.choices[0]?.delta.content ?? "";
    return { text, gateway: this.gateway() };
  }
}

/** A Responses stream (typed events); the cost rides on the final response (completed, incomplete or failed). */
export class ResponseStream extends GatewayStream<OpenAI.Responses.ResponseStreamEvent> {
  constructor(stream: AsyncIterable<OpenAI.Responses.ResponseStreamEvent>, headers: Headers, controller: AbortController) {
    super(stream, headers, (e) => ("response" in e && e.type !== "response.created" && e.type !== "response.in_progress" ? (e.response as { llmgw?: unknown }).llmgw : undefined), controller);
  }
}

/** The caller's signal, if any, and the stream's own controller. */
function streamSignal(opts: CallOptions | undefined): { controller: AbortController; signal: AbortSignal } {
  const controller = new AbortController();
  return { controller, signal: opts?.signal ? AbortSignal.any([opts.signal, controller.signal]) : controller.signal };
}

export class LlmgwClient {
  /** The underlying openai client, for anything the gateway offers beyond this surface. */
  readonly openai: OpenAI;

  constructor(
    readonly mode: "remote" | "in-process",
    openai: OpenAI,
    private readonly onClose: () => Promise<void> = async () => {},
  ) {
    this.openai = openai;
  }

  readonly chat = {
    create: async (params: Omit<OpenAI.Chat.ChatCompletionCreateParamsNonStreaming, "stream">, opts?: CallOptions): Promise<{ completion: OpenAI.Chat.ChatCompletion } & WithGateway> => {
      const { data, response } = await this.openai.chat.completions.create({ ...params, stream: false }, opts).withResponse();
      return { completion: data, gateway: infoFromHeaders(response.headers) };
    },
    stream: async (params: Omit<OpenAI.Chat.ChatCompletionCreateParamsStreaming, "stream">, opts?: CallOptions): Promise<ChatStream> => {
      const { controller, signal } = streamSignal(opts);
      const { data, response } = await this.openai.chat.completions.create({ ...params, stream: true }, { ...opts, signal }).withResponse();
      return new ChatStream(data, response.headers, controller);
    },
  };

  readonly responses = {
    create: async (params: Omit<OpenAI.Responses.ResponseCreateParamsNonStreaming, "stream">, opts?: CallOptions): Promise<{ response: OpenAI.Responses.Response } & WithGateway> => {
      const { data, response } = await this.openai.responses.create({ ...params, stream: false }, opts).withResponse();
      return { response: data, gateway: infoFromHeaders(response.headers) };
    },
    stream: async (params: Omit<OpenAI.Responses.ResponseCreateParamsStreaming, "stream">, opts?: CallOptions): Promise<ResponseStream> => {
      const { controller, signal } = streamSignal(opts);
      const { data, response } = await this.openai.responses.create({ ...params, stream: true }, { ...opts, signal }).withResponse();
      return new ResponseStream(data, response.headers, controller);
    },
  };

  readonly embeddings = {
    create: async (params: OpenAI.EmbeddingCreateParams, opts?: CallOptions): Promise<{ embeddings: OpenAI.CreateEmbeddingResponse } & WithGateway> => {
      const { data, response } = await this.openai.embeddings.create(params, opts).withResponse();
      return { embeddings: data, gateway: infoFromHeaders(response.headers) };
    },
  };

  /** Admin calls: keys, budgets and policy need an admin key; spend, savings, cache and shadow reports take a tenant key for its own tenant. */
  readonly admin = {
    keys: {
      create: (body: { tenant_id: string; name?: string; admin?: boolean }, opts?: CallOptions) => this.openai.post<CreatedKey>("/llmgw/keys", { ...opts, body }),
      list: (query: { tenant_id?: string } = {}, opts?: CallOptions) => this.openai.get<List<KeyInfo>>("/llmgw/keys", { ...opts, query }),
      revoke: (id: string, opts?: CallOptions) => this.openai.delete<{ id: string; revoked: true }>(`/llmgw/keys/${encodeURIComponent(id)}`, opts),
    },
    budgets: {
      set: (body: BudgetInput, opts?: CallOptions) => this.openai.put<Budget>("/llmgw/budgets", { ...opts, body }),
      list: (query: { tenant_id?: string } = {}, opts?: CallOptions) => this.openai.get<List<Budget>>("/llmgw/budgets", { ...opts, query }),
    },
    spend: (query: SpendQuery = {}, opts?: CallOptions) => this.openai.get<SpendReport>("/llmgw/spend", { ...opts, query }),
    /** The spend report's totals seen as savings: baseline, cost, saved, and by cause. */
    savings: async (query: Omit<SpendQuery, "group_by"> = {}, opts?: CallOptions): Promise<SavingsReport> => {
      const s = await this.openai.get<SpendReport>("/llmgw/spend", { ...opts, query });
      const t = s.total;
      return { since: s.since, tenant_id: s.tenant_id, baseline_usd: t.baseline_usd, cost_usd: t.cost_usd, savings_usd: t.savings_usd, savings_rate: t.baseline_usd > 0 ? t.savings_usd / t.baseline_usd : 0, by_cause: t.savings };
    },
    cache: {
      /** Drops cached answers of a tenant (an admin may name any), or of one namespace (a model or tier; "embeddings:<model>"). */
      invalidate: (body: { tenant_id?: string; namespace?: string } = {}, opts?: CallOptions) => this.openai.post<CacheInvalidation>("/llmgw/cache/invalidate", { ...opts, body }),
      /** The audited wrong-hit rate of semantic hits per category (routing.shadow.cache_audit_rate). */
      quality: (query: { since?: string; tenant_id?: string } = {}, opts?: CallOptions) => this.openai.get<CacheQuality>("/llmgw/cache/quality", { ...opts, query }),
    },
    shadow: {
      report: (query: { tenant_id?: string } = {}, opts?: CallOptions) => this.openai.get<ShadowReport>("/llmgw/shadow/report", { ...opts, query }),
    },
    policy: {
      get: (opts?: CallOptions) => this.openai.get<Policy>("/llmgw/policy", opts),
      apply: (body: PolicyInput, opts?: CallOptions) => this.openai.post<Policy>("/llmgw/policy", { ...opts, body }),
      revert: (body: { version: number; reason?: string }, opts?: CallOptions) => this.openai.post<Policy>("/llmgw/policy/revert", { ...opts, body }),
    },
  };

  /** Releases what this client started (the in-process gateway); a no-op for remote clients. */
  close(): Promise<void> {
    return this.onClose();
  }
}

/** Remote mode: HTTP to a running gateway (`baseURL` with or without the trailing /v1). */
export function remote(o: ClientOptions & { baseURL: string; fetch?: typeof fetch }): LlmgwClient {
  const baseURL = `${o.baseURL.replace(/\/+$/, "").replace(/\/v1$/, "")}/v1`;
  return new LlmgwClient("remote", new OpenAI({ baseURL, apiKey: o.apiKey, maxRetries: o.maxRetries ?? 2, ...(o.timeout !== undefined ? { timeout: o.timeout } : {}), ...(o.defaultHeaders ? { defaultHeaders: o.defaultHeaders } : {}), ...(o.fetch ? { fetch: o.fetch } : {}) }));
}
