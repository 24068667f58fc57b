// Runs one executor call and turns its event stream into what the edge needs: for non-streaming
// requests the completion and summary, for streaming ones an iterator the route can forward.
import type OpenAI from "openai";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { RequestContextSchema, type Candidate } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import type { Attempt, ExecuteRequest, ExecuteResponse, Failure, Summary } from "#libs/gen/llmgw/executor/v1/executor_pb.ts";
import { fromJsonBytes } from "#libs/rpc/json-bytes.ts";
import { asMessage } from "#libs/rpc/wire.ts";
import { GatewayError, type ErrorType } from "#libs/errors/openai-error.ts";
import type { EdgeClients } from "./deps.ts";

export interface RunResult {
  completion?: OpenAI.Chat.ChatCompletion;
  /** The executor's JSON of `completion`, as received: the JSON answer goes out as these bytes. */
  completionJson?: Uint8Array;
  summary?: Summary;
  failure?: Failure;
  attempts: Attempt[];
  purpose: string;
}

const decoder = new TextDecoder();

export function failureToError(f: Failure): GatewayError {
  return new GatewayError({
    status: f.httpStatus || 502,
    message: f.message || "Upstream provider failed.",
    type: (f.type || "server_error") as ErrorType,
    code: f.code || null,
    param: f.param || null,
    retryAfterSec: f.retryAfterSec || undefined,
  });
}

export interface ExecuteArgs {
  context: MessageInitShape<typeof RequestContextSchema>;
  candidates: Candidate[];
  requestJson: Uint8Array;
  stream: boolean;
  purpose: string;
  signal?: AbortSignal;
}

/** The request as a whole message: the in-process client passes it on without a create() (candidates come from the router as messages). */
function executeRequest(args: ExecuteArgs, stream: boolean): ExecuteRequest {
  return {
    $typeName: "llmgw.executor.v1.ExecuteRequest",
    context: asMessage(RequestContextSchema, args.context),
    candidates: args.candidates,
    requestJson: args.requestJson,
    stream,
    totalTimeoutMs: 0,
    purpose: args.purpose,
  };
}

export async function runNonStreaming(clients: EdgeClients, args: ExecuteArgs): Promise<RunResult> {
  const out: RunResult = { attempts: [], purpose: args.purpose };
  const events = clients.executor.execute(executeRequest(args, false), { signal: args.signal });
  for await (const ev of events) collect(out, ev);
  return out;
}

function collect(out: RunResult, ev: ExecuteResponse): void {
  switch (ev.event.case) {
    case "completionJson":
      out.completion = fromJsonBytes<OpenAI.Chat.ChatCompletion>(ev.event.value);
      out.completionJson = ev.event.value;
      break;
    case "summary":
      out.summary = ev.event.value;
      out.attempts = ev.event.value.attempts;
      break;
    case "failure":
      out.failure = ev.event.value;
      out.attempts = ev.event.value.attempts;
      break;
    default:
      break;
  }
}

export interface StreamStart {
  /** The deployment that answers (from the executor's Started event). */
  model: string;
  /** Chunks as JSON text, ready for `data: ...`. Ends after the provider's last chunk. */
  chunks: AsyncIterable<string>;
  /** Resolves once the stream is over, with what happened. */
  done: Promise<RunResult>;
}

/**
 * Starts a streaming execution and waits for its first event, so a failure before any token
 * becomes a proper HTTP error instead of a broken stream.
 */
export async function startStreaming(clients: EdgeClients, args: ExecuteArgs): Promise<StreamStart | RunResult> {
  const out: RunResult = { attempts: [], purpose: args.purpose };
  const it = clients.executor.execute(executeRequest(args, true), { signal: args.signal })[Symbol.asyncIterator]();
  let first = await it.next();
  let model = "";
  if (!first.done && first.value.event.case === "started") {
    model = first.value.event.value.model;
    first = await it.next();
  }
  if (first.done) return out;
  if (first.value.event.case === "failure") {
    collect(out, first.value);
    return out;
  }
  let resolveDone!: (r: RunResult) => void;
  const done = new Promise<RunResult>((r) => (resolveDone = r));
  async function* chunks(): AsyncGenerator<string> {
    try {
      let ev: IteratorResult<ExecuteResponse> = first;
      while (!ev.done) {
        if (ev.value.event.case === "chunkJson") yield decoder.decode(ev.value.event.value);
        else collect(out, ev.value);
        ev = await it.next();
      }
    } catch (e) {
      out.failure ??= {
        $typeName: "llmgw.executor.v1.Failure",
        httpStatus: 502,
        type: "server_error",
        code: "stream_interrupted",
        message: e instanceof Error ? e.message : "stream interrupted",
        param: "",
        retryAfterSec: 0,
        attempts: out.attempts,
      };
    } finally {
      // A client that disconnects stops iterating; release the executor stream too.
      await it.return?.();
      resolveDone(out);
    }
  }
  return { model, chunks: chunks(), done };
}

/**
 * Where the executor moved on to another model (a failed attempt, then a different model): a route
 * reason each, so x-llmgw-route-reasons names the model that answered. Retries on one model are not listed.
 */
export function fallbackReasons(attempts: readonly Pick<Attempt, "model" | "status" | "errorCode">[]): string[] {
  const out: string[] = [];
  for (let i = 1; i < attempts.length; i++) {
    const prev = attempts[i - 1]!;
    const next = attempts[i]!;
    if (prev.model !== next.model && prev.status !== "ok") out.push(`fallback: ${prev.model} ${prev.errorCode || prev.status} -> ${next.model}`);
  }
  return out;
}

export function isStreamStart(x: StreamStart | RunResult): x is StreamStart {
  return "chunks" in x;
}
