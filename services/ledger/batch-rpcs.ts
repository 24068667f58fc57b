// The ledger's Batches API RPCs over BatchStore: the edge serves /v1/files and /v1/batches and runs
// the batch worker; everything it must not lose across restarts lives here.
import { Code } from "@connectrpc/connect";
import { serviceError } from "#libs/errors/connect-to-openai.ts";
import type {
  AcquireLeaseRequest,
  CreateBatchJobRequest,
  DeleteBatchFileRequest,
  GetBatchFileRequest,
  GetBatchJobRequest,
  GetBatchLinesRequest,
  ListBatchFilesRequest,
  ListBatchJobsRequest,
  ListSubBatchesRequest,
  PutBatchFileRequest,
  PutSubBatchRequest,
  UpdateBatchJobRequest,
  UpdateBatchLinesRequest,
} from "#libs/gen/llmgw/ledger/v1/ledger_pb.ts";
import type { BatchStore } from "./storage/batch-store.ts";

const MAX_PAGE = 1_000;
const page = (limit: number, dflt: number) => Math.min(MAX_PAGE, limit > 0 ? limit : dflt);
const need = (v: string, name: string) => {
  if (!v) throw serviceError(`${name} is required`, Code.InvalidArgument, { param: name });
};

export class BatchRpcs {
  constructor(
    private readonly store: BatchStore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async putFile(req: PutBatchFileRequest) {
    const f = req.file;
    if (!f) throw serviceError("file is required", Code.InvalidArgument, { param: "file" });
    need(f.id, "id");
    need(f.tenantId, "tenant_id");
    const createdAt = f.createdAt > 0n ? Number(f.createdAt) : Math.floor(this.now().getTime() / 1000);
    return { file: await this.store.putFile({ id: f.id, tenantId: f.tenantId, filename: f.filename, purpose: f.purpose, createdAt, content: f.content }) };
  }

  async getFile(req: GetBatchFileRequest) {
    need(req.tenantId, "tenant_id");
    const file = await this.store.getFile(req.tenantId, req.id, req.includeContent);
    return file ? { found: true, file } : { found: false };
  }

  async listFiles(req: ListBatchFilesRequest) {
    need(req.tenantId, "tenant_id");
    return this.store.listFiles(req.tenantId, req.after, page(req.limit, 100), req.purpose);
  }

  async deleteFile(req: DeleteBatchFileRequest) {
    need(req.tenantId, "tenant_id");
    return { deleted: await this.store.deleteFile(req.tenantId, req.id) };
  }

  async createJob(req: CreateBatchJobRequest) {
    const j = req.job;
    if (!j) throw serviceError("job is required", Code.InvalidArgument, { param: "job" });
    need(j.id, "id");
    need(j.tenantId, "tenant_id");
    if (req.lines.length === 0) throw serviceError("a batch needs lines", Code.InvalidArgument, { param: "lines" });
    await this.store.createJob(j, req.lines);
    return { job: await this.store.getJob(j.tenantId, j.id) };
  }

  async getJob(req: GetBatchJobRequest) {
    const job = await this.store.getJob(req.tenantId, req.id);
    return job ? { found: true, job } : { found: false };
  }

  async listJobs(req: ListBatchJobsRequest) {
    // Every tenant's batches only for the worker's active list.
    if (!req.tenantId && !req.activeOnly) throw serviceError("tenant_id is required", Code.InvalidArgument, { param: "tenant_id" });
    return this.store.listJobs(req.tenantId, req.after, page(req.limit, 20), req.activeOnly);
  }

  async updateJob(req: UpdateBatchJobRequest) {
    const j = req.job;
    if (!j?.id || !j.status) throw serviceError("job.id and job.status are required", Code.InvalidArgument, { param: "job" });
    const r = await this.store.updateJob(j, req.expectedStatuses);
    return r.job ? { updated: r.updated, job: r.job } : { updated: false };
  }

  async getLines(req: GetBatchLinesRequest) {
    need(req.batchId, "batch_id");
    return { lines: await this.store.getLines(req.batchId, req.fromIndex, page(req.limit, MAX_PAGE), req.states, req.includeBody, req.includeResult) };
  }

  async updateLines(req: UpdateBatchLinesRequest) {
    need(req.batchId, "batch_id");
    return { updated: await this.store.updateLines(req.batchId, req.lines) };
  }

  async putSubBatch(req: PutSubBatchRequest) {
    const s = req.subBatch;
    if (!s?.batchId || !s.key || !s.state) throw serviceError("sub_batch.batch_id, key and state are required", Code.InvalidArgument, { param: "sub_batch" });
    await this.store.putSubBatch(s);
    return {};
  }

  async listSubBatches(req: ListSubBatchesRequest) {
    need(req.batchId, "batch_id");
    return { subBatches: await this.store.listSubBatches(req.batchId) };
  }

  async lease(req: AcquireLeaseRequest) {
    need(req.name, "name");
    need(req.holder, "holder");
    if (!req.release && req.ttlMs <= 0) throw serviceError("ttl_ms must be positive", Code.InvalidArgument, { param: "ttl_ms" });
    const holder = await this.store.lease(req.name, req.holder, req.ttlMs, req.release, this.now());
    return { acquired: !req.release && holder === req.holder, holder };
  }
}
