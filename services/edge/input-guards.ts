// Every refusal the edge makes before a route runs, in the OpenAI error shape: Fastify's own errors (a
// URL it cannot decode, a path parameter too long), Node's HTTP parser errors (malformed requests,
// headers too large, timeouts: a raw response on the socket), the 503 while draining, and the request
// limits of edge.limits (URL length, query parameters given twice, NUL or lone surrogates in query and
// path, message and tool counts).
import type { Socket } from "node:net";
import { STATUS_CODES } from "node:http";
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from "fastify";
import type { Limits } from "#libs/config/limits.ts";
import { errors, GatewayError } from "#libs/errors/openai-error.ts";
import { checkString } from "./json-body.ts";

/** Fastify options that route its own early errors into our shape. */
export function inputGuardOptions(): Pick<FastifyServerOptions, "frameworkErrors" | "clientErrorHandler" | "return503OnClosing"> {
  return {
    frameworkErrors: (err: { code?: string }, req: FastifyRequest, reply: FastifyReply) => {
      const e =
        err.code === "FST_ERR_MAX_PARAM_LENGTH"
          ? new GatewayError({ status: 414, message: "A path parameter of the URL is too long.", type: "invalid_request_error", code: "uri_too_long" })
          : errors.badRequest("The URL is not valid (malformed percent-encoding or characters).", null, "invalid_url");
      sendShaped(reply, e, req.id);
    },
    clientErrorHandler: rawClientError,
    // Our onRequest hook answers 503 in our shape while draining (Fastify's would be its own).
    return503OnClosing: false,
  };
}

/** Node's HTTP parser refused the request: answer on the raw socket (no request object exists). */
function rawClientError(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  const [status, code, message] =
    err.code === "HPE_HEADER_OVERFLOW"
      ? [431, "request_header_fields_too_large", "The request's headers (or its URL) are too large."]
      : err.code === "ERR_HTTP_REQUEST_TIMEOUT" || err.code === "ERR_HTTP_REQUEST_HEADERS_TIMEOUT"
        ? [408, "request_timeout", "The request was not received in time."]
        : [400, "malformed_request", "The HTTP request is malformed."];
  const body = JSON.stringify({ error: { message, type: "invalid_request_error", param: null, code } });
  if (socket.writable) {
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  } else socket.destroy();
}

function sendShaped(reply: FastifyReply, e: GatewayError, requestId: string): void {
  void reply.headers(e.responseHeaders());
  void reply.code(e.status).header("x-llmgw-request-id", requestId).send(e.toBody());
}

/** Hooks that refuse what is over a limit or unreadable before any route reads it (thrown: the app's error handler shapes them). */
/**
 * `unknownRoute` answers a path no route serves, before its body is parsed or its params checked (a
 * check there named the not-found route's wildcard, '*', in a 400 instead of the 404).
 */
export function registerInputGuards(app: FastifyInstance, limits: Limits, draining: () => boolean, unknownRoute: (req: FastifyRequest, reply: FastifyReply) => void): void {
  // Callback hooks, not async ones: no promise per request and hook on the hot path.
  app.addHook("onRequest", (req, reply, done) => {
    if (draining()) {
      void reply.header("connection", "close");
      return done(errors.unavailable("The gateway is shutting down; retry on another replica.", 1));
    }
    if (req.url.length > limits.url_chars) {
      return done(new GatewayError({ status: 414, message: `The URL is ${req.url.length} characters long, over the limit of ${limits.url_chars} (edge.limits.url_chars).`, type: "invalid_request_error", code: "uri_too_long" }));
    }
    if (req.is404) return unknownRoute(req, reply);
    done();
  });
  app.addHook("preValidation", (req, _reply, done) => {
    try {
      checkQuery(req.query);
      checkParams(req.params, limits.url_chars);
      checkCounts(req.body, limits);
    } catch (e) {
      return done(e instanceof Error ? e : new Error(String(e)));
    }
    done();
  });
}

/**
 * The gateway decodes no request body: a compressed one read as JSON (or multipart) was a misleading
 * invalid_json. Called by the body parsers, so requests without a body pay nothing.
 */
export function contentEncodingError(header: string | undefined): GatewayError | undefined {
  if (header === undefined) return undefined;
  const coding = header.split(",").map((c) => c.trim().toLowerCase()).find((c) => c !== "" && c !== "identity");
  if (coding === undefined) return undefined;
  const shown = coding.replace(/[^\w.+-]/g, "?").slice(0, 32);
  return new GatewayError({ status: 415, message: `Content-Encoding '${shown}' is not supported: send the request body uncompressed.`, type: "invalid_request_error", code: "unsupported_content_encoding" });
}

/** Each query parameter once (a second value is a 400, not an array a route does not expect), clean text. */
export function checkQuery(query: unknown): void {
  if (typeof query !== "object" || query === null) return;
  for (const [name, value] of Object.entries(query)) {
    const field = cleanName(name);
    if (Array.isArray(value)) throw errors.badRequest(`Query parameter '${field}' is given more than once.`, field, "duplicate_parameter");
    if (typeof value === "string") {
      const bad = checkString(name, Number.MAX_SAFE_INTEGER, field) ?? checkString(value, Number.MAX_SAFE_INTEGER, field);
      if (bad) throw bad;
    }
  }
}

/** Path parameters (ids) decoded by Fastify: no NUL, no lone surrogate (they reached PostgreSQL as 500s). */
export function checkParams(params: unknown, maxChars: number): void {
  if (typeof params !== "object" || params === null) return;
  for (const [name, value] of Object.entries(params)) {
    if (typeof value !== "string") continue;
    const bad = checkString(value, maxChars, name);
    if (bad) throw bad;
  }
}

/** `messages` and `tools` of a JSON body (chat, and any route shaped like it) within their limits. */
export function checkCounts(body: unknown, limits: Pick<Limits, "messages" | "tools">): void {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return;
  const b = body as { messages?: unknown; tools?: unknown };
  if (Array.isArray(b.messages) && b.messages.length > limits.messages) {
    throw errors.badRequest(`'messages' has ${b.messages.length} entries, over the limit of ${limits.messages} (edge.limits.messages).`, "messages", "too_many_messages");
  }
  if (Array.isArray(b.tools) && b.tools.length > limits.tools) {
    throw errors.badRequest(`'tools' has ${b.tools.length} entries, over the limit of ${limits.tools} (edge.limits.tools).`, "tools", "too_many_tools");
  }
}

/** A parameter name fit to quote in a message. */
function cleanName(name: string): string {
  return name.replace(/[^\w.\-[\]]/g, "?").slice(0, 64);
}
