// The provider's own Batch API (OpenAI-type providers) for the executor's Create/Get/GetOutput RPCs:
// the gateway forwards a whole batch so the provider's batch discount applies. Stateless: the edge
// keeps the gateway id → provider id mapping and names the model on every call.
import { ConnectError, Code } from "@connectrpc/connect";
import OpenAI, { toFile } from "openai";
import type { Deployment } from "./domain/deployments.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface BatchCreateInput {
  model: string;
  inputJsonl: Uint8Array;
  endpoint: string;
  completionWindow: string;
  /** Provider batch metadata (the gateway's idempotency key), found again by find(). */
  metadata?: Readonly<Record<string, string>>;
}

/** How many provider batches find() reads (newest first) before giving up: recovery looks for recent ones. */
const FIND_SCAN_LIMIT = 1_000;

/** Sets every line's body.model to the deployment's upstream name; blank lines dropped. */
export function upstreamJsonl(jsonl: string, upstreamModel: string): string {
  const out: string[] = [];
  for (const raw of jsonl.split("\n")) {
    const text = raw.trim();
    if (text.length === 0) continue;
    let line: unknown;
    try {
      line = JSON.parse(text);
    } catch {
      throw new ConnectError("batch input line is not valid JSON", Code.InvalidArgument);
    }
    if (typeof line !== "object" || line === null) throw new ConnectError("batch line is not a JSON object", Code.InvalidArgument);
    const rec = line as Record<string, unknown>;
    const body = rec["body"];
    const newBody = typeof body === "object" && body !== null ? { ...(body as Record<string, unknown>), model: upstreamModel } : body;
    out.push(JSON.stringify({ ...rec, body: newBody }));
  }
  return `${out.join("\n")}\n`;
}

export class ProviderBatches {
  private readonly clients = new Map<string, OpenAI>();

  constructor(
    private readonly deployment: (model: string) => Readonly<Deployment> | undefined,
    private readonly timeoutMs = 60_000,
  ) {}

  async create(i: BatchCreateInput): Promise<{ batchJson: Uint8Array; provider: string }> {
    const { client, dep } = this.clientFor(i.model);
    const content = upstreamJsonl(decoder.decode(i.inputJsonl), dep.upstreamModel);
    const upload = await toFile(Buffer.from(content), "batch_input.jsonl");
    const file = await wrap(() => client.files.create({ file: upload, purpose: "batch" }));
    const batch = await wrap(() =>
      client.batches.create({
        input_file_id: file.id,
        endpoint: i.endpoint as OpenAI.BatchCreateParams["endpoint"],
        completion_window: i.completionWindow as OpenAI.BatchCreateParams["completion_window"],
        ...(i.metadata && Object.keys(i.metadata).length > 0 ? { metadata: { ...i.metadata } } : {}),
      }),
    );
    return { batchJson: encoder.encode(JSON.stringify(batch)), provider: dep.providerId };
  }

  async get(model: string, providerBatchId: string): Promise<Uint8Array> {
    const { client } = this.clientFor(model);
    const batch = await wrap(() => client.batches.retrieve(providerBatchId));
    return encoder.encode(JSON.stringify(batch));
  }

  /** The newest provider batch whose metadata[key] = value, if any (scans recent batches). */
  async find(model: string, key: string, value: string): Promise<Uint8Array | undefined> {
    const { client } = this.clientFor(model);
    return wrap(async () => {
      let seen = 0;
      for await (const b of client.batches.list({ limit: 100 })) {
        if (b.metadata?.[key] === value) return encoder.encode(JSON.stringify(b));
        if (++seen >= FIND_SCAN_LIMIT) break;
      }
      return undefined;
    });
  }

  async cancel(model: string, providerBatchId: string): Promise<Uint8Array> {
    const { client } = this.clientFor(model);
    const batch = await wrap(() => client.batches.cancel(providerBatchId));
    return encoder.encode(JSON.stringify(batch));
  }

  async output(model: string, providerFileId: string): Promise<Uint8Array> {
    const { client } = this.clientFor(model);
    const res = await wrap(() => client.files.content(providerFileId));
    return new Uint8Array(await res.arrayBuffer());
  }

  private clientFor(model: string): { client: OpenAI; dep: Readonly<Deployment> } {
    const dep = this.deployment(model);
    if (!dep) throw new ConnectError(`unknown model '${model}'`, Code.NotFound);
    if (dep.providerType !== "openai") throw new ConnectError(`model '${model}' is not on an OpenAI-type provider: batches are not supported`, Code.InvalidArgument);
    if (dep.apiKey === null) throw new ConnectError(`provider '${dep.providerId}' has no API key`, Code.FailedPrecondition);
    let client = this.clients.get(model);
    if (!client) {
      // Platform fetch, not the hot-path undici one: uploads are multipart and this path is rare.
      client = new OpenAI({ baseURL: dep.baseURL, apiKey: dep.apiKey, maxRetries: 1, timeout: this.timeoutMs, logLevel: "off" });
      this.clients.set(model, client);
    }
    return { client, dep };
  }
}

/** Provider HTTP errors → Connect codes the edge maps to OpenAI-shaped errors. */
async function wrap<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof ConnectError) throw e;
    if (e instanceof OpenAI.APIError) {
      const status = e.status ?? 0;
      const code = status === 404 ? Code.NotFound : status === 400 || status === 422 ? Code.InvalidArgument : status === 429 ? Code.ResourceExhausted : status === 401 || status === 403 ? Code.PermissionDenied : Code.Unavailable;
      throw new ConnectError(`provider error ${status}: ${e.message}`, code);
    }
    throw new ConnectError(`provider call failed: ${e instanceof Error ? e.message : String(e)}`, Code.Unavailable);
  }
}
