// A `fetch` for the provider SDKs built on undici's `request` (keep-alive Agent) instead of WHATWG
// fetch: fetch's spec machinery (web streams, Request/Response objects, body mixins) is a large share
// of the gateway's CPU per call. The SDK only needs a small part of Response — status, headers,
// json()/text(), and a body it can iterate (it accepts any async iterable) — so that is what this returns.
import type { Readable } from "node:stream";
import { Agent, request, type Dispatcher } from "undici";

/** Keep-alive connections to providers; one Agent (pools per origin) shared by every adapter. */
let sharedAgent: Agent | undefined;
export function providerAgent(): Agent {
  return (sharedAgent ??= new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 300_000, connections: 256, pipelining: 1 }));
}

type BodyReadable = Dispatcher.ResponseData["body"];

function toHeaders(raw: Dispatcher.ResponseData["headers"]): Headers {
  const h = new Headers();
  for (const k in raw) {
    const v = raw[k];
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) h.append(k, x);
    else h.append(k, v);
  }
  return h;
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
  private hdrs: Headers | undefined;
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
    return (this.hdrs ??= toHeaders(this.rawHeaders));
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
    const res = await request(url, {
      method: ((init?.method ?? "GET").toUpperCase()) as HttpMethod,
      headers: requestHeaders(init?.headers),
      body: body ?? undefined,
      signal: init?.signal ?? undefined,
      dispatcher,
    });
    return new LightResponse(url, res.statusCode, res.headers, res.body) as unknown as Response;
  };
  return f as typeof fetch;
}
