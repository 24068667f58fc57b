// ExecutorService over gRPC: runs the engine and streams its events as proto messages. For streams
// it also names the answering deployment before the first chunk, assembles the full completion at
// the end (for the cache and verifiers) and hides the usage chunk from clients that did not ask.
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type OpenAI from "openai";
import type { Usage as ProtoUsage } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import { ExecutorService, type Attempt, type ExecuteResponse } from "#libs/gen/llmgw/executor/v1/executor_pb.ts";
import { CompletionAssembler } from "#libs/openai/assemble.ts";
import { toProtoUsage } from "#libs/pricing/usage-types.ts";
import { fromJsonBytes, jsonBytes } from "#libs/rpc/json-bytes.ts";
import { ProviderBatches } from "./batches.ts";
import type { ProviderEmbeddings } from "./embeddings.ts";
import type { ExecutorEngine } from "./domain/engine.ts";
import type { AttemptRecord, Usage } from "./domain/types.ts";

type Impl = ServiceImpl<typeof ExecutorService>;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class ExecutorServiceImpl implements Impl {
  private readonly batches: ProviderBatches;

  constructor(
    private readonly engine: ExecutorEngine,
    private readonly embeddings?: ProviderEmbeddings,
  ) {
    this.batches = new ProviderBatches((model) => engine.deployment(model));
  }

  async embed(req: Parameters<Impl["embed"]>[0], ctx: Parameters<Impl["embed"]>[1]) {
    if (!this.embeddings) throw new ConnectError("embeddings are not configured on this executor", Code.Unimplemented);
    let body: unknown;
    try {
      body = JSON.parse(decoder.decode(req.requestJson));
    } catch {
      throw new ConnectError("request_json is not valid JSON", Code.InvalidArgument);
    }
    if (!body || typeof body !== "object" || Array.isArray(body)) throw new ConnectError("request_json must be a JSON object", Code.InvalidArgument);
    const out = await this.embeddings.embed({ requestId: req.context?.requestId ?? "", model: req.model, body: body as Record<string, unknown>, totalTimeoutMs: req.totalTimeoutMs || undefined, signal: ctx.signal });
    if (!out.ok) {
      const e = out.error;
      return { failure: { httpStatus: e.status, type: e.type, code: e.code ?? "", message: e.message, param: e.param ?? "", retryAfterSec: e.retryAfterSec ?? 0, attempts: out.attempts.map(attemptMsg) } };
    }
    return {
      responseJson: encoder.encode(JSON.stringify(out.response)),
      summary: { model: out.model, provider: out.provider, usage: usageMsg(out.usage), finishReason: "", attempts: out.attempts.map(attemptMsg), latencyMs: BigInt(Math.round(out.latencyMs)) },
    };
  }

  async createBatch(req: Parameters<Impl["createBatch"]>[0]) {
    // An empty batch is a caller mistake: say so now rather than upload nothing to the provider.
    if (decoder.decode(req.inputJsonl).trim().length === 0) throw new ConnectError("input_jsonl has no request lines", Code.InvalidArgument);
    return this.batches.create({ model: req.model, inputJsonl: req.inputJsonl, endpoint: req.endpoint, completionWindow: req.completionWindow, metadata: req.metadata });
  }

  async getBatch(req: Parameters<Impl["getBatch"]>[0]) {
    return { batchJson: await this.batches.get(req.model, req.providerBatchId) };
  }

  async findBatch(req: Parameters<Impl["findBatch"]>[0]) {
    if (!req.metadataKey) throw new ConnectError("metadata_key is required", Code.InvalidArgument);
    const found = await this.batches.lookup(req.model, req.metadataKey, req.metadataValue, { customIdPrefix: req.customIdPrefix, createdAfterSec: Number(req.createdAfter) });
    if (found === "pending") return { found: false, pending: true };
    return found ? { found: true, batchJson: found } : { found: false };
  }

  async cancelBatch(req: Parameters<Impl["cancelBatch"]>[0]) {
    return { batchJson: await this.batches.cancel(req.model, req.providerBatchId) };
  }

  async getBatchOutput(req: Parameters<Impl["getBatchOutput"]>[0]) {
    return { content: await this.batches.output(req.model, req.providerFileId) };
  }

  // The events are whole messages ($typeName and every field), not init objects: the in-process client
  // passes a message on as it is, where an init object costs a create() per event (see libs/rpc/wire.ts).
  async *execute(req: Parameters<Impl["execute"]>[0], ctx: Parameters<Impl["execute"]>[1]): AsyncGenerator<ExecuteResponse> {
    let body: OpenAI.Chat.ChatCompletionCreateParams;
    try {
      // An in-process edge's body itself (it sent jsonBytes(body)); otherwise the bytes parsed. The
      // engine and the adapters only read it (they build the provider's request as a new object).
      body = fromJsonBytes<OpenAI.Chat.ChatCompletionCreateParams>(req.requestJson);
    } catch {
      yield response({ case: "failure", value: failureMsg(400, "invalid_request_error", "invalid_json", "request_json is not valid JSON.", "", 0, []) });
      return;
    }
    const wantUsage = body.stream_options?.include_usage === true;
    const assembler = req.stream ? new CompletionAssembler() : undefined;
    let started = false;
    let sawCompletion = false;
    for await (const ev of this.engine.execute({
      requestId: req.context?.requestId ?? "",
      candidates: req.candidates.map((c) => ({ model: c.model })),
      body,
      stream: req.stream,
      totalTimeoutMs: req.totalTimeoutMs || undefined,
      signal: ctx.signal,
    })) {
      switch (ev.type) {
        case "chunk": {
          if (!started) {
            started = true;
            yield response({ case: "started", value: { $typeName: "llmgw.executor.v1.Started", model: ev.chunk.model, provider: this.engine.deployment(ev.chunk.model)?.providerId ?? "" } });
          }
          assembler?.add(ev.chunk);
          if (ev.chunk.choices.length === 0 && ev.chunk.usage && !wantUsage) break;
          yield response({ case: "chunkJson", value: encoder.encode(JSON.stringify(ev.chunk)) });
          break;
        }
        case "completion":
          sawCompletion = true;
          // The adapters' completions are plain JSON data: an in-process edge takes the object itself.
          yield response({ case: "completionJson", value: jsonBytes(ev.completion) });
          break;
        case "summary":
          if (assembler && !sawCompletion) yield response({ case: "completionJson", value: encoder.encode(JSON.stringify(assembler.completion())) });
          yield response({
            case: "summary",
            value: {
              $typeName: "llmgw.executor.v1.Summary",
              model: ev.summary.model,
              provider: ev.summary.provider,
              usage: usageMsg(ev.summary.usage),
              finishReason: ev.summary.finishReason,
              attempts: ev.summary.attempts.map(attemptMsg),
              latencyMs: BigInt(Math.round(ev.summary.latencyMs)),
            },
          });
          break;
        case "failure":
          yield response({
            case: "failure",
            value: failureMsg(ev.error.status, ev.error.type, ev.error.code ?? "", ev.error.message, ev.error.param ?? "", ev.error.retryAfterSec ?? 0, ev.attempts.map(attemptMsg)),
          });
          break;
      }
    }
  }

  getHealth() {
    return { deployments: this.engine.health().map((h) => ({ model: h.model, state: h.state, inFlight: h.inFlight })) };
  }
}

function response(event: ExecuteResponse["event"]): ExecuteResponse {
  return { $typeName: "llmgw.executor.v1.ExecuteResponse", event };
}

function failureMsg(httpStatus: number, type: string, code: string, message: string, param: string, retryAfterSec: number, attempts: Attempt[]): Extract<ExecuteResponse["event"], { case: "failure" }>["value"] {
  return { $typeName: "llmgw.executor.v1.Failure", httpStatus, type, code, message, param, retryAfterSec, attempts };
}

/** Usage as a proto message, or none. */
function usageMsg(u: Usage | null): ProtoUsage | undefined {
  return u ? toProtoUsage(u) : undefined;
}

function attemptMsg(a: AttemptRecord): Attempt {
  const usage = usageMsg(a.usage);
  const m: Attempt = { $typeName: "llmgw.executor.v1.Attempt", model: a.model, provider: a.provider, status: a.status, httpStatus: a.httpStatus, errorCode: a.errorCode, latencyMs: BigInt(Math.round(a.latencyMs)) };
  // Unset, not undefined, as create() leaves it.
  if (usage) m.usage = usage;
  return m;
}
