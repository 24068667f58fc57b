// Hostile requests for the fuzz test, generated from a seeded PRNG so a failure replays: wrong types
// everywhere, deep JSON, huge strings, NUL bytes, lone surrogates, giant numbers, duplicate and broken
// query parameters, long URLs, many headers, wrong content types and malformed HTTP.
import { createRng } from "#libs/random/rng.ts";
import { httpBytes } from "./raw-http.ts";

/** Picks cases from mulberry32: the same seed gives the same run. */
export class Rng {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = createRng(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** JSON text a serializer cannot produce: a literal spliced in as is (1e400, 30 digits, -0). */
class Literal {
  constructor(readonly text: string) {}
}
type Json = null | boolean | number | string | Literal | Json[] | { [k: string]: Json };

/** JSON.stringify with Literals spliced in; iterative enough for our depths (built as text). */
export function jsonText(v: Json): string {
  if (v instanceof Literal) return v.text;
  if (Array.isArray(v)) return `[${v.map(jsonText).join(",")}]`;
  if (v !== null && typeof v === "object") return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${jsonText(x)}`).join(",")}}`;
  return JSON.stringify(v);
}

const GIANT = ["1e400", "-1e400", "123456789012345678901234567890", "0.000000000000000000000000000001", "-0", "1E-400", "9007199254740993"];
const BAD_IDS = ["%00", "x%00y", "%ZZ", "%", "%ED%A0%80", "%F0%9F", "%C0%AF", "..%2F..%2Fetc%2Fpasswd", "a".repeat(120), "a".repeat(1_000), "%E2%80%AE", "null", "-1", "1e400", "%FF%FE"];
const BAD_QUERY = [
  "since=1d&since=2d",
  "since=-271821-04-20T00:00:00Z",
  "since=+275760-09-13T00:00:00Z",
  "since=1900-01-01",
  "since=99999999999999d",
  "since=2025-13-45",
  "since=%00",
  "since=%ED%A0%80",
  "tenant_id=%00",
  "tenant_id=a&tenant_id=b",
  "tenant_id=%ED%A0%80x",
  "group_by=tenant&group_by=model",
  "group_by[]=x",
  "group_by=%",
  "__proto__[admin]=1",
  "a=%&b=%%",
  "limit=1e400",
  `x=${"y".repeat(3_000)}`,
];

export function hostileValue(r: Rng, depth = 0): Json {
  switch (r.int(depth > 2 ? 12 : 15)) {
    case 0: return null;
    case 1: return r.chance(0.5);
    case 2: return r.pick([0, -1, 1.5, 2 ** 53 + 2, -(2 ** 31), 1e308, -1e-308, 3]);
    case 3: return new Literal(r.pick(GIANT));
    case 4: return r.pick(["", "x", "auto", "gpt-4o-mini", "user", "batch", "day", "24h", "/v1/chat/completions"]);
    case 5: return `a\u0000b${r.int(100)}`;
    case 6: return r.pick(["\ud800", "x\udc00y", "\udbff\udbff", "ok\ud83d"]);
    case 7: return r.pick(["z", " ", "é", "中", "!", "a\u0301"]).repeat(1 + r.int(20_000));
    case 8: return "<|endoftext|>".repeat(1 + r.int(50));
    case 9: return r.pick(["\u202e", "\ufeff", "\uffff", "😀".repeat(100), "\r\n\r\nHTTP/1.1 200 OK"]);
    case 10: return nested(r, r.pick([3, 20, 63, 70, 500, 6_000]));
    case 11: return [];
    case 12: return {};
    case 13: return Array.from({ length: 1 + r.int(5) }, () => hostileValue(r, depth + 1));
    default: {
      const o: { [k: string]: Json } = {};
      for (let i = 0; i < 1 + r.int(4); i++) o[r.pick(["type", "role", "content", "name", "a\u0000", "\ud800", "x", "text", "function"])] = hostileValue(r, depth + 1);
      return o;
    }
  }
}

/** Nesting built as text (a serializer would recurse as deep as the value). */
function nested(r: Rng, depth: number): Json {
  const open: string[] = [];
  const close: string[] = [];
  for (let i = 0; i < depth; i++) {
    const array = r.chance(0.5);
    open.push(array ? "[" : '{"a":');
    close.push(array ? "]" : "}");
  }
  return new Literal(`${open.join("")}${JSON.stringify(r.pick([1, "x", null]))}${close.reverse().join("")}`);
}

const CHAT_FIELDS = ["model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens", "temperature", "top_p", "n", "presence_penalty", "frequency_penalty", "stop", "tools", "tool_choice", "response_format", "user", "seed", "logit_bias", "metadata", "x_unknown"];
const MESSAGE_FIELDS = ["role", "content", "name", "tool_call_id", "tool_calls"];

/** A chat body: a valid one with one to three hostile mutations. */
export function chatBody(r: Rng, models: readonly string[]): Json {
  const body: { [k: string]: Json } = { model: r.pick(models), messages: [{ role: "user", content: `fuzz ${r.int(1e6)}` }], max_tokens: 16 };
  for (let m = 0; m < 1 + r.int(3); m++) {
    const msgs = body["messages"];
    switch (r.int(9)) {
      case 0:
      case 1:
        body[r.pick(CHAT_FIELDS)] = hostileValue(r);
        break;
      case 2:
      case 3:
        if (Array.isArray(msgs) && msgs[0] && typeof msgs[0] === "object" && !Array.isArray(msgs[0]) && !(msgs[0] instanceof Literal)) msgs[0][r.pick(MESSAGE_FIELDS)] = hostileValue(r);
        break;
      case 4:
        body["messages"] = Array.from({ length: r.pick([50, 2_049]) }, (_, i) => ({ role: i % 2 ? "assistant" : "user", content: "m" }));
        break;
      case 5:
        body["tools"] = Array.from({ length: r.pick([3, 129]) }, (_, i) => ({ type: "function", function: { name: `f${i}`, parameters: { type: "object" } } }));
        break;
      case 6:
        body["messages"] = [{ role: "user", content: r.pick(["z", " ", "中", "ab"]).repeat(r.pick([20_000, 70_000, 1_100_000])) }];
        break;
      case 7:
        body["__proto__"] = { admin: true };
        break;
      default:
        body["stream"] = true;
    }
  }
  return body;
}

export interface Target {
  method: string;
  /** Path with `:param` placeholders. */
  path: string;
}

export interface Keys {
  admin: string;
  tenant: string;
}

export interface HostileRequest {
  label: string;
  bytes: Buffer;
  /** Malformed HTTP: the server may answer with an error or close; it must not hang. */
  malformed: boolean;
}

const MALFORMED: readonly string[] = [
  "GARBAGE\r\n\r\n",
  "GET / HTTP/9.9\r\nHost: x\r\n\r\n",
  "GET /v1/models HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n",
  "GET /v1/models HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n",
  "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
  "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
  "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
  "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nabc\r\n0\r\n\r\n",
  "GET /v1/mo dels HTTP/1.1\r\nHost: x\r\n\r\n",
  "GET /v1/models HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
  "FOO /v1/models HTTP/1.1\r\nHost: x\r\n\r\n",
  "GET /v1/models HTTP/1.1\nHost: x\n\n",
  "GET \u00e9\u00e9 HTTP/1.1\r\nHost: x\r\n\r\n",
  "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"model\":",
];

/** One hostile request against one of the targets (the gateway's routes, found at run time). */
export function hostileRequest(r: Rng, targets: readonly Target[], keys: Keys, models: readonly string[]): HostileRequest {
  const kind = r.int(20);
  if (kind === 0) {
    const text = r.chance(0.8) ? r.pick(MALFORMED) : Array.from({ length: 1 + r.int(300) }, () => String.fromCharCode(r.int(256))).join("");
    return { label: `malformed ${JSON.stringify(text.slice(0, 40))}`, bytes: Buffer.from(text, "latin1"), malformed: true };
  }
  const t = r.pick(targets);
  let path = t.path.replace(/:\w+/g, () => (r.chance(0.7) ? r.pick(BAD_IDS) : `id-${r.int(1000)}`));
  if (r.chance(0.3)) path += `?${r.pick(BAD_QUERY)}`;
  if (kind === 1) path = r.chance(0.5) ? `/v1/${"a".repeat(r.pick([9_000, 20_000]))}` : `${t.path.replace(/:\w+/g, "x")}?q=${"b".repeat(10_000)}`;
  if (kind === 2) path = r.pick(["/", "/v1", "/v2/chat/completions", "/v1/chat/completions/", "//v1//models", "/v1/models/%", "/%00", "/v1/llmgw/keys/%ED%A0%80", "/.env", "/v1/chat%2Fcompletions"]);
  const method = kind === 3 ? r.pick(["PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "POST", "GET"]) : t.method;
  const headers: [string, string][] = [];
  const auth = r.int(10);
  if (auth < 4) headers.push(["Authorization", `Bearer ${keys.tenant}`]);
  else if (auth < 8) headers.push(["Authorization", `Bearer ${keys.admin}`]);
  else if (auth === 8) headers.push(["Authorization", r.pick(["Bearer ", "Basic abc", `Bearer ${"k".repeat(12_000)}`, `Bearer ${"k".repeat(2_000)}${r.int(1e9)}`, "Bearer sk-\u00ff\u00fe"])]);
  if (kind === 4) for (let i = 0; i < r.pick([50, 120, 3_000]); i++) headers.push([`X-Fuzz-${i}`, "v".repeat(r.int(20))]);
  if (kind === 5) headers.push(["X-LLMGW-Cache", r.pick(["off", "refresh", "\u00ff", "x".repeat(500)])], ["traceparent", r.pick(["00-zz-yy-01", "x".repeat(300)])], ["x-llmgw-session-id", "s".repeat(r.int(5_000))]);
  let body: Buffer | undefined;
  if (method === "POST" || method === "PUT" || method === "PATCH" || r.chance(0.05)) {
    const contentType = kind === 6 ? r.pick(["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "multipart/form-data; boundary=x", "application/json; charset=latin1", "application/jsonx", ""]) : "application/json";
    if (contentType) headers.push(["Content-Type", contentType]);
    const json = t.path === "/v1/chat/completions" && r.chance(0.8) ? chatBody(r, models) : hostileValue(r);
    body = kind === 7 ? Buffer.from(r.pick(["{", "[1,]", "{\"a\":01}", "\u0000", "nul", "{\"a\":\"\\ud800\"", "{\"a\":\"\\x\"}", "\"\\u12\""]), "latin1") : Buffer.from(jsonText(json), "utf8");
    if (kind === 8) body = Buffer.concat([Buffer.from("{\"model\":\"auto\",\"messages\":[{\"role\":\"user\",\"content\":\"", "latin1"), Buffer.from([0xed, 0xa0, 0x80, 0xff, 0xc0, 0x00]), Buffer.from("\"}]}", "latin1")]);
  }
  return { label: `${method} ${path.slice(0, 80)}${body ? ` ${body.subarray(0, 60).toString("utf8")}` : ""}`, bytes: httpBytes(method, path, headers, body), malformed: false };
}

/**
 * Routes from Fastify's printed tree (`printRoutes({ commonPrefix: false })`): each line is a path
 * segment under the line one level up (4 characters of indentation per level), with its methods.
 */
export function routesOf(printed: string): Target[] {
  const out: Target[] = [];
  const stack: string[] = [];
  for (const line of printed.split("\n")) {
    const m = /^(.*?)(?:├── |└── )(\S+)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = (m[1] as string).length / 4;
    stack.length = depth;
    const path = (stack[depth - 1] ?? "") + (m[2] as string);
    stack.push(path);
    for (const method of (m[3] ?? "").split(",").map((x) => x.trim())) if (method && method !== "HEAD") out.push({ method, path });
  }
  return out;
}
