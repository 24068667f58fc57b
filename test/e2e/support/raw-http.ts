// HTTP/1.1 over a plain socket, for requests no HTTP client would send (malformed request lines, bad
// percent-encoding, thousands of headers, raw bytes): write the bytes, read until the server closes.
import { connect } from "node:net";

export interface RawResponse {
  /** 0 when the server closed without answering. */
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** true when nothing came back before the timeout (a hang). */
  timedOut: boolean;
  ms: number;
}

/**
 * Sends `request` (it should ask for `Connection: close`) and collects the whole answer. With `halfClose`
 * the socket's sending side is closed after the bytes, so a truncated request ends instead of waiting.
 */
export function rawRequest(port: number, request: Buffer | string, timeoutMs: number, halfClose = false): Promise<RawResponse> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let done = false;
    const socket = connect({ port, host: "127.0.0.1" });
    const finish = (timedOut: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...parseResponse(Buffer.concat(chunks)), timedOut, ms: performance.now() - t0 });
    };
    const timer = setTimeout(() => finish(true), timeoutMs);
    socket.on("data", (c: Buffer) => {
      chunks.push(c);
      // A complete answer with a body length is enough (the server may keep the socket open).
      if (complete(Buffer.concat(chunks))) finish(false);
    });
    socket.on("error", () => finish(false));
    socket.on("close", () => finish(false));
    if (halfClose) socket.end(request);
    else socket.write(request, () => undefined);
  });
}

function complete(raw: Buffer): boolean {
  const end = raw.indexOf("\r\n\r\n");
  if (end < 0) return false;
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(raw.subarray(0, end).toString("latin1"));
  return length !== null && raw.length - end - 4 >= Number(length[1]);
}

function parseResponse(raw: Buffer): Omit<RawResponse, "timedOut" | "ms"> {
  const end = raw.indexOf("\r\n\r\n");
  if (end < 0) return { status: 0, headers: {}, body: Buffer.alloc(0) };
  const lines = raw.subarray(0, end).toString("latin1").split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "")?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(":");
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  let body = raw.subarray(end + 4);
  if (headers["transfer-encoding"]?.toLowerCase() === "chunked") body = unchunk(body);
  else if (headers["content-length"] !== undefined) body = body.subarray(0, Number(headers["content-length"]));
  return { status, headers, body };
}

function unchunk(b: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = b.indexOf("\r\n", at);
    if (eol < 0) break;
    const size = Number.parseInt(b.subarray(at, eol).toString("latin1"), 16);
    if (!Number.isFinite(size) || size === 0) break;
    out.push(b.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}

/** A request's bytes: request line, headers (Host and Connection: close added), body. */
export function httpBytes(method: string, target: string, headers: [string, string][], body?: Buffer | string): Buffer {
  const b = body === undefined ? undefined : typeof body === "string" ? Buffer.from(body, "utf8") : body;
  const lines = [`${method} ${target} HTTP/1.1`, "Host: 127.0.0.1", "Connection: close", ...headers.map(([k, v]) => `${k}: ${v}`)];
  if (b !== undefined && !headers.some(([k]) => /^(content-length|transfer-encoding)$/i.test(k))) lines.push(`Content-Length: ${b.length}`);
  const head = Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1");
  return b === undefined ? head : Buffer.concat([head, b]);
}
