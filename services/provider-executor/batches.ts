// The provider's own batch API for the executor's batch RPCs (Create/Get/GetOutput/Find/Cancel), so the
// provider's batch discount applies. One contract whatever the provider: OpenAI batch JSONL in, OpenAI batch
// objects and OpenAI output / error JSONL out (Anthropic is translated: providers/anthropic-batches.ts).
// Stateless: the caller keeps the gateway id → provider id mapping and names the model on every call.
import { ConnectError, Code } from "@connectrpc/connect";
import type { Deployment } from "./domain/deployments.ts";
import type { BatchFindHint, ProviderBatchApi } from "./providers/batch-api.ts";
import { BATCH_APIS } from "./providers/batch-apis.ts";

export { upstreamJsonl } from "./providers/openai-batches.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface BatchCreateInput {
  model: string;
  inputJsonl: Uint8Array;
  endpoint: string;
  completionWindow: string;
  metadata?: Record<string, string>;
}

function bytes(json: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(json));
}

export class ProviderBatches {
  private readonly apis = new Map<string, ProviderBatchApi>();

  constructor(
    private readonly deployment: (model: string) => Readonly<Deployment> | undefined,
    private readonly timeoutMs = 60_000,
  ) {}

  async create(i: BatchCreateInput): Promise<{ batchJson: Uint8Array; provider: string }> {
    const { api, dep } = this.apiFor(i.model);
    const batch = await api.create({ inputJsonl: decoder.decode(i.inputJsonl), endpoint: i.endpoint, completionWindow: i.completionWindow, metadata: i.metadata ?? {} });
    return { batchJson: bytes(batch), provider: dep.providerId };
  }

  async get(model: string, providerBatchId: string): Promise<Uint8Array> {
    return bytes(await this.apiFor(model).api.get(providerBatchId));
  }

  async output(model: string, providerFileId: string): Promise<Uint8Array> {
    return this.apiFor(model).api.output(providerFileId);
  }

  /** The provider batch whose metadata[key] = value; undefined when none (Unimplemented on providers without metadata). */
  async find(model: string, key: string, value: string): Promise<Uint8Array | undefined> {
    const b = await this.lookup(model, key, value);
    if (b === "pending") throw new ConnectError("a candidate batch is still running: ask again later", Code.Unavailable);
    return b;
  }

  /** find, and on providers without metadata the batch whose custom_ids carry the hint's prefix ("pending": cannot tell yet). */
  async lookup(model: string, key: string, value: string, hint?: BatchFindHint): Promise<Uint8Array | "pending" | undefined> {
    const b = await this.apiFor(model).api.find(key, value, hint);
    return b === undefined || b === "pending" ? b : bytes(b);
  }

  async cancel(model: string, providerBatchId: string): Promise<Uint8Array> {
    return bytes(await this.apiFor(model).api.cancel(providerBatchId));
  }

  private apiFor(model: string): { api: ProviderBatchApi; dep: Readonly<Deployment> } {
    const dep = this.deployment(model);
    if (!dep) throw new ConnectError(`unknown model '${model}'`, Code.NotFound);
    if (dep.batchApi === false) throw new ConnectError(`provider '${dep.providerId}' has no batch API (batch_api: false): run model '${model}' lines live`, Code.FailedPrecondition);
    const factory = BATCH_APIS[dep.providerType];
    if (factory === undefined) throw new ConnectError(`model '${model}' is on a '${dep.providerType}' provider, which has no batch API`, Code.FailedPrecondition);
    if (dep.apiKey === null) throw new ConnectError(`provider '${dep.providerId}' has no API key`, Code.FailedPrecondition);
    let api = this.apis.get(model);
    if (!api) {
      api = factory({ dep, apiKey: dep.apiKey, timeoutMs: this.timeoutMs });
      this.apis.set(model, api);
    }
    return { api, dep };
  }
}
