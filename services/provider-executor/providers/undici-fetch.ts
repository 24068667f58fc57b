// A `fetch` for the provider SDKs built on undici's `request` (keep-alive Agent) instead of WHATWG
// fetch: fetch's spec machinery (web streams, Request/Response objects, body mixins) is a large share
// of the gateway's CPU per call. The SDK only needs a small part of Response — status, headers,
// json()/text(), and a body it can iterate (it accepts any async iterable) — so that is what this returns.
import type { Readable } from "node:stream";
import { Agent, type Dispatcher } from "undici";

/** Keep-alive connections to providers; one Agent (pools per origin) shared by every adapter. */
let sharedAgent: Agent | undefined;
export function providerAgent(): Agent {
  return (sharedAgent ??= new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 300_000, connections: 256, pipelining: 1 }));
}

type BodyReadable = Dispatcher.ResponseData["body"];

/**
 * Read-only response headers over undici's parsed object (names already lower-case): the SDK reads a
 * few headers per call, and a WHATWG Headers validates every append and sorts on every iteration.
 */
class ResponseHeaders {
  constructor(private readonly raw: Dispatcher.ResponseData["headers"]) {}
  get(name: string): string | null {
    const v = this.raw[name.toLowerCase()];
    return v === undefined ? null : Array.isArray(v) ? v.join(", ") : v;
  }
  has(name: string): boolean {
    return this.raw[name.toLowerCase()] !== undefined;
  }
  getSetCookie(): string[] {
    const v = this.raw["set-cookie"];
    return v === undefined ? [] : Array.isArray(v) ? v : [v];
  }
  *entries(): IterableIterator<[string, string]> {
    for (const k in this.raw) {
      const v = this.get(k);
      if (v !== null) yield [k, v];
    }
  }
  *keys(): IterableIterator<string> {
    for (const [k] of this.entries()) yield k;
  }
  *values(): IterableIterator<string> {
    for (const [, v] of this.entries()) yield v;
  }
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
  forEach(fn: (value: string, key: string, parent: Headers) => void): void {
    for (const [k, v] of this.entries()) fn(v, k, this as unknown as Headers);
  }
}

function requestHeaders(h: RequestInit["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  if (h instanceof Headers) h.forEach((v, k) => (out[k] = v));
  else if (Array.isArray(h)) {
    for (const [k, v] of h) if (k !== undefined && v !== undefined) out[k.toLowerCase()] = v;
  }
  else for (const k of Object.keys(h)) out[k.toLowerCase()] = (h as Record<string, string>)[k] as string;
  return out;
}

/** The part of Response the SDKs use; `body` is the undici stream itself (a Node Readable, async-iterable). */
class LightResponse {
  readonly ok: boolean;
  readonly statusText = "";
  readonly redirected = false;
  readonly type = "basic";
  private hdrs: ResponseHeaders | undefined;
  private used = false;

  constructor(
    readonly url: string,
    readonly status: number,
    private readonly rawHeaders: Dispatcher.ResponseData["headers"],
    private readonly stream: BodyReadable,
  ) {
    this.ok = status >= 200 && status < 300;
  }
  get headers(): Headers {
    return (this.hdrs ??= new ResponseHeaders(this.rawHeaders)) as unknown as Headers;
  }
  get body(): Readable {
    return this.stream;
  }
  get bodyUsed(): boolean {
    return this.used;
  }
  json(): Promise<unknown> {
    this.used = true;
    return this.stream.json();
  }
  text(): Promise<string> {
    this.used = true;
    return this.stream.text();
  }
  arrayBuffer(): Promise<ArrayBuffer> {
    this.used = true;
    return this.stream.arrayBuffer();
  }
}

type HttpMethod = Dispatcher.HttpMethod;

/** `fetch` for `new OpenAI({ fetch })`: string/Buffer bodies (what the SDKs send for JSON APIs). */
export function createUndiciFetch(dispatcher: Dispatcher = providerAgent()): typeof fetch {
  const f = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const body = init?.body;
    if (body !== undefined && body !== null && typeof body !== "string" && !(body instanceof Uint8Array)) {
      // Streams and form data go through the platform fetch (uploads; not on the chat hot path).
      return fetch(input, init);
    }
    // Origin and path split by hand: undici's top-level request() parses a URL object per call.
    const slash = url.indexOf("/", url.indexOf("://") + 3);
    const res = await dispatcher.request({
      origin: slash < 0 ? url : url.slice(0, slash),
      path: slash < 0 ? "/" : url.slice(slash),
      method: ((init?.method ?? "GET").toUpperCase()) as HttpMethod,
      headers: requestHeaders(init?.headers),
      body: body ?? undefined,
      signal: init?.signal ?? undefined,
    });
    return new LightResponse(url, res.statusCode, res.headers, res.body) as unknown as Response;
  };
  return f as typeof fetch;
}

// One undici-backed fetch for every provider SDK client; settings.providerFetch "platform"
// (LLMGW_PROVIDER_FETCH) makes the executor pass the platform fetch instead, for comparison.
let defaultFetch: typeof fetch | undefined;
export function providerFetch(): typeof fetch {
  return (defaultFetch ??= createUndiciFetch());
}
