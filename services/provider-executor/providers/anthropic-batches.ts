// Anthropic Message Batches through @anthropic-ai/sdk behind the OpenAI batch contract: OpenAI JSONL in
// (translated line by line, anthropic-batch-translate.ts), OpenAI batch objects and output / error JSONL out.
// The output "files" are the batch's results split by outcome, named <batch id>:output and <batch id>:errors.
import Anthropic from "@anthropic-ai/sdk";
import { ConnectError, Code } from "@connectrpc/connect";
import { findByCustomIdPrefix } from "./anthropic-batch-find.ts";
import { CHAT_ENDPOINT, fromAnthropicCustomId, fromAnthropicResult, parseResultsFileId, toAnthropicBatchRequests, toOpenAIBatch } from "./anthropic-batch-translate.ts";
import { wrapProviderCall, type BatchApiInit, type ProviderBatchApi } from "./batch-api.ts";

const encoder = new TextEncoder();
/**
 * How far FindBatch looks back (past the 24 h window) and how many batches it checks: each ended candidate
 * costs a results read, so the caller's created_after keeps the scan short. Past the count it cannot tell.
 */
const FIND_MAX_AGE_SEC = 7 * 86_400;
const FIND_MAX_SCANNED = 500;

export function createAnthropicBatchApi(o: BatchApiInit): ProviderBatchApi {
  // Platform fetch: results arrive as a streamed JSONL body and this path is rare.
  const client = new Anthropic({ baseURL: o.dep.baseURL, apiKey: o.apiKey, maxRetries: 1, timeout: o.timeoutMs, logLevel: "off" });
  const call = <T>(f: () => Promise<T>) => wrapProviderCall(Anthropic.APIError, f);
  return {
    async create(i) {
      if (i.endpoint !== CHAT_ENDPOINT) throw new ConnectError(`model '${o.dep.model}' batches only ${CHAT_ENDPOINT} (Anthropic Message Batches)`, Code.InvalidArgument);
      const requests = toAnthropicBatchRequests(i.inputJsonl, o.dep.upstreamModel, o.dep.maxOutputTokens);
      const batch = await call(() => client.messages.batches.create({ requests }));
      // Anthropic batches carry no metadata: echoed on create so the caller sees what it asked for.
      return toOpenAIBatch(batch, Object.keys(i.metadata).length > 0 ? i.metadata : null, i.completionWindow || "24h");
    },
    async get(id) {
      return toOpenAIBatch(await call(() => client.messages.batches.retrieve(id)));
    },
    async output(fileId) {
      const ref = parseResultsFileId(fileId);
      if (ref === undefined) throw new ConnectError(`'${fileId}' is not a results file of an Anthropic batch`, Code.NotFound);
      return call(async () => {
        const batch = await client.messages.batches.retrieve(ref.batchId);
        if (batch.processing_status !== "ended") throw new ConnectError(`batch ${ref.batchId} has not ended; its results are not available yet`, Code.FailedPrecondition);
        const created = Math.floor(Date.parse(batch.ended_at ?? batch.created_at) / 1000);
        const lines: string[] = [];
        let n = 0;
        // Line ids derive from the batch id and the result's position, so reading twice gives the same file.
        for await (const r of await client.messages.batches.results(ref.batchId)) {
          const t = fromAnthropicResult(r, `batch_req_${ref.batchId.slice("msgbatch_".length)}_${n++}`, o.dep.model, created);
          if (t.ok === (ref.kind === "output")) lines.push(t.line);
        }
        return encoder.encode(lines.length > 0 ? `${lines.join("\n")}\n` : "");
      });
    },
    async find(_key, _value, hint) {
      // The Message Batches API has no batch metadata to search by: without a custom_id prefix a caller must
      // not take "none" for an answer.
      if (!hint?.customIdPrefix) throw new ConnectError(`Anthropic Message Batches carry no metadata: a batch of model '${o.dep.model}' cannot be found by key`, Code.Unimplemented);
      const createdAfterSec = Math.max(hint.createdAfterSec, Math.floor(Date.now() / 1000) - FIND_MAX_AGE_SEC);
      const out = await call(async () =>
        findByCustomIdPrefix({
          batches: client.messages.batches.list({ limit: 100 }),
          firstCustomId: async (id) => {
            for await (const r of await client.messages.batches.results(id)) return fromAnthropicCustomId(r.custom_id);
            return undefined;
          },
          prefix: hint.customIdPrefix,
          createdAfterSec,
          maxScanned: FIND_MAX_SCANNED,
        }),
      );
      if (out.kind === "too_many") throw new ConnectError(`more than ${FIND_MAX_SCANNED} Anthropic batches since ${createdAfterSec}: cannot tell whether one is ours`, Code.Unimplemented);
      return out.kind === "found" ? toOpenAIBatch(out.batch) : out.kind === "pending" ? "pending" : undefined;
    },
    async cancel(id) {
      return toOpenAIBatch(await call(() => client.messages.batches.cancel(id)));
    },
  };
}
