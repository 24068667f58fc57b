// What a handler decided to send; server.ts turns it into bytes on the wire, with latency and pacing.
import { errorBody, type Protocol, type SimError } from "./errors.ts";

export interface JsonOutcome {
  kind: "json";
  status: number;
  body: string;
  /** Default application/json. */
  contentType?: string;
  retryAfterSec?: number;
  /** Output tokens, for pacing by tokensPerSecond. */
  outputTokens: number;
  extraDelayMs: number;
}

export interface SseOutcome {
  kind: "sse";
  /** Complete SSE frames ("data: ...\n\n", or with "event:" lines). */
  frames: string[];
  /** Output tokens carried by each frame (same length as frames), for pacing. */
  frameTokens: number[];
  extraDelayMs: number;
}

export interface HangOutcome {
  kind: "hang";
}

export type Outcome = JsonOutcome | SseOutcome | HangOutcome;

export function jsonOutcome(body: string, outputTokens = 0, extraDelayMs = 0): JsonOutcome {
  return { kind: "json", status: 200, body, outputTokens, extraDelayMs };
}

export function errorOutcome(protocol: Protocol, e: SimError, extraDelayMs = 0): JsonOutcome {
  return {
    kind: "json",
    status: e.status,
    body: errorBody(protocol, e),
    ...(e.retryAfterSec !== undefined ? { retryAfterSec: e.retryAfterSec } : {}),
    outputTokens: 0,
    extraDelayMs,
  };
}
