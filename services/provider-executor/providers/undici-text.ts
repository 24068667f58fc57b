// One undici request whose answer is read whole as text, through undici's dispatch handler API. It
// gives what request() + body.text() give, without what request() builds per call for a caller that
// may stream: an AsyncResource, a parsed header object, a Readable body, and the promise machinery
// of consuming it. undici still does all of the HTTP (pooling, writing, llhttp, timeouts).
import { util, type Dispatcher } from "undici";
import type { AbortEmitter } from "./types.ts";

export interface TextResponse {
  statusCode: number;
  /** Parsed only for answers outside 2xx (their headers carry Retry-After); empty otherwise. */
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** A failed call; `afterHeaders` tells a failure while reading the answer from one before it. */
export class TextCallError extends Error {
  constructor(
    err: Error,
    readonly afterHeaders: boolean,
  ) {
    super(err.message, { cause: err });
    this.name = "TextCallError";
  }
}

const NO_HEADERS: TextResponse["headers"] = Object.freeze({});

class TextHandler implements Dispatcher.DispatchHandlers {
  private abort: ((err?: Error) => void) | null = null;
  private reason: Error | null = null;
  private removeAbort: (() => void) | null = null;
  private statusCode = 0;
  private headers = NO_HEADERS;
  private chunks: Buffer[] = [];
  private length = 0;

  constructor(
    private readonly resolve: (r: TextResponse) => void,
    private readonly reject: (e: TextCallError) => void,
    private readonly signal: AbortSignal | AbortEmitter | undefined,
  ) {
    if (!signal) return;
    if (signal.aborted) this.reason = abortReason(signal);
    else if ("addEventListener" in signal) {
      signal.addEventListener("abort", this.onAbort, { once: true });
      this.removeAbort = () => signal.removeEventListener("abort", this.onAbort);
    } else {
      signal.once("abort", this.onAbort);
      this.removeAbort = () => signal.removeListener("abort", this.onAbort);
    }
  }

  /** As request() does: before the socket, abort when undici calls onConnect; after, at once. */
  private readonly onAbort = (): void => {
    this.reason = this.signal ? abortReason(this.signal) : new Error("request aborted");
    this.abort?.(this.reason);
  };

  onConnect(abort: (err?: Error) => void): void {
    if (this.reason) return abort(this.reason);
    this.abort = abort;
    // Called again when undici retries the request on a new socket: start over.
    this.statusCode = 0;
    this.chunks = [];
    this.length = 0;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    if (statusCode < 200) return true; // 1xx: the answer is still to come
    this.statusCode = statusCode;
    if (statusCode >= 300) this.headers = util.parseHeaders(rawHeaders);
    return true;
  }

  onData(chunk: Buffer): boolean {
    // The chunk is a view on the socket's read buffer, which is not reused (request()'s body keeps it too).
    this.chunks.push(chunk);
    this.length += chunk.length;
    return true;
  }

  onComplete(): void {
    this.removeAbort?.();
    this.resolve({ statusCode: this.statusCode, headers: this.headers, text: decode(this.chunks, this.length) });
  }

  onError(err: Error): void {
    this.removeAbort?.();
    this.reject(new TextCallError(err, this.statusCode !== 0));
  }
}

function abortReason(signal: AbortSignal | AbortEmitter): Error {
  return signal.reason instanceof Error ? signal.reason : new Error("request aborted");
}

/** UTF-8 without a leading BOM, as undici's body.text() decodes. */
function decode(chunks: Buffer[], length: number): string {
  if (chunks.length === 0 || length === 0) return "";
  const buf = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, length);
  const bom = buf.length > 2 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf;
  return buf.toString("utf8", bom ? 3 : 0);
}

/** `opts` as for request(), minus `signal` (passed apart: an AbortSignal or an AbortEmitter). */
export function requestText(dispatcher: Dispatcher, opts: Dispatcher.DispatchOptions, signal?: AbortSignal | AbortEmitter): Promise<TextResponse> {
  return new Promise((resolve, reject) => {
    dispatcher.dispatch(opts, new TextHandler(resolve, reject, signal));
  });
}
