// Gateway file and batch ids → tenant, model and provider ids. In memory: NOT durable — a restart
// forgets batches in flight (their provider batches still run and bill, but the gateway can no longer
// serve or account them). Bounded so a flood of uploads cannot grow it without limit.
import { randomUUID } from "node:crypto";

export interface StoredInputFile {
  kind: "input";
  id: string;
  tenantId: string;
  filename: string;
  purpose: string;
  createdAt: number;
  content: Buffer;
}

/** A provider output/error file, served through the gateway. */
export interface StoredOutputFile {
  kind: "output";
  id: string;
  tenantId: string;
  purpose: "batch_output";
  createdAt: number;
  batchId: string;
  providerFileId: string;
}

export type StoredFile = StoredInputFile | StoredOutputFile;

export interface StoredBatch {
  id: string;
  tenantId: string;
  keyId: string;
  requestedModel: string;
  model: string;
  provider: string;
  providerBatchId: string;
  inputFileId: string;
  createdAt: Date;
  /** Provider file id → gateway file id. */
  outputs: Map<string, string>;
  /** True once the batch's RequestCompleted events were published. */
  accounted: boolean;
}

export class BatchStore {
  private readonly files = new Map<string, StoredFile>();
  private readonly batches = new Map<string, StoredBatch>();

  constructor(private readonly maxEntries = 10_000) {}

  addInputFile(f: Omit<StoredInputFile, "kind" | "id" | "createdAt">): StoredInputFile {
    const file: StoredInputFile = { ...f, kind: "input", id: `file-llmgw-${randomUUID()}`, createdAt: Math.floor(Date.now() / 1000) };
    this.put(this.files, file.id, file);
    return file;
  }

  /** The gateway id for a provider output file of a batch (created on first sight). */
  outputFileId(b: StoredBatch, providerFileId: string): string {
    const known = b.outputs.get(providerFileId);
    if (known) return known;
    const file: StoredOutputFile = { kind: "output", id: `file-llmgw-${randomUUID()}`, tenantId: b.tenantId, purpose: "batch_output", createdAt: Math.floor(Date.now() / 1000), batchId: b.id, providerFileId };
    this.put(this.files, file.id, file);
    b.outputs.set(providerFileId, file.id);
    return file.id;
  }

  addBatch(b: Omit<StoredBatch, "id" | "outputs" | "accounted">): StoredBatch {
    const batch: StoredBatch = { ...b, id: `batch_llmgw_${randomUUID()}`, outputs: new Map(), accounted: false };
    this.put(this.batches, batch.id, batch);
    return batch;
  }

  /** Tenant-scoped: another tenant's id is as unknown as a made-up one. */
  file(id: string, tenantId: string): StoredFile | undefined {
    const f = this.files.get(id);
    return f?.tenantId === tenantId ? f : undefined;
  }

  batch(id: string, tenantId: string): StoredBatch | undefined {
    const b = this.batches.get(id);
    return b?.tenantId === tenantId ? b : undefined;
  }

  /** Batches submitted and not yet finished and accounted (the gateway's batch queue), oldest first. */
  waiting(): { count: number; oldest: Date | undefined } {
    let count = 0;
    let oldest: Date | undefined;
    for (const b of this.batches.values()) {
      if (b.accounted) continue;
      count += 1;
      if (!oldest || b.createdAt < oldest) oldest = b.createdAt;
    }
    return { count, oldest };
  }

  private put<V>(m: Map<string, V>, id: string, v: V): void {
    // Oldest first out (Map keeps insertion order).
    if (m.size >= this.maxEntries) {
      const oldest = m.keys().next().value;
      if (oldest !== undefined) m.delete(oldest);
    }
    m.set(id, v);
  }
}
