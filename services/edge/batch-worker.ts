// The batch worker: moves every unfinished batch forward, with all its state in the ledger so any
// edge can take over after a restart. One worker runs across replicas (a lease in the ledger,
// renewed as it goes, taken over once it expires). Per batch:
//   validating  → each pending line classified, looked up in the exact cache (a hit is answered and
//                 billed at 0 provider cost) and routed to a model whose provider has a batch API;
//   in_progress → routed lines grouped per model into sub-batches, each recorded as "submitting"
//                 under a deterministic key BEFORE the provider is asked (the key rides in the
//                 provider batch's metadata, so after a crash the batch is found, not sent twice);
//                 provider batches polled; results written per line, each success billed once;
//   finalizing  → output and error files assembled in input order; the reservation settled;
//   cancelling  → provider batches cancelled, what finished is kept, the rest fails as cancelled;
//   past expires_at → expired, finished lines kept.
// The loop polls from batches.poll_min_ms, doubling up to poll_max_ms while nothing changes.
import { randomUUID } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { Decimal } from "decimal.js";
import { subjects } from "#libs/bus/subjects.ts";
import { create } from "@bufbuild/protobuf";
import { CandidateSchema } from "#libs/gen/llmgw/common/v1/common_pb.ts";
import type { BatchJob, BatchLine, SubBatch } from "#libs/gen/llmgw/ledger/v1/ledger_pb.ts";
import { fromOpenAIUsageJson } from "#libs/pricing/usage-openai.ts";
import { toProtoUsage, type UsageCounts } from "#libs/pricing/usage-types.ts";
import { batchLineCompletedBytes, batchLineRequestId } from "./batch-accounting.ts";
import { BATCH_ENDPOINT, parseBatchOutput, type BatchOutputLine } from "./batch-input.ts";
import { routeBatchLine } from "./batch-route-line.ts";
import { indexOfProviderCustomId, providerCustomId, providerCustomIdPrefix } from "./batch-custom-id.ts";
import { runNonStreaming } from "./execution.ts";
import type { EdgeDeps } from "./deps.ts";

export const LEASE_NAME = "batch-worker";
/** The provider batch metadata key that holds the sub-batch's idempotency key. */
export const IDEMPOTENCY_KEY = "llmgw_idempotency_key";
const PAGE = 1_000;
const PROVIDER_DONE = new Set(["completed", "failed", "expired", "cancelled"]);
const ACTIVE_LINE_STATES = ["pending", "routed", "submitted"];
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const nowSec = () => Math.floor(Date.now() / 1000);
const errMsg = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** FindBatch's answer when a provider batch that may be ours is still running: wait, do not resubmit. */
const PENDING = Symbol("pending");
/** Provider and gateway clocks differ: a batch created this long before its job is still a candidate. */
const FIND_CLOCK_SKEW_SEC = 600;

type FinalStatus = "completed" | "cancelled" | "expired";
type LineUpdate = Partial<Pick<BatchLine, "index" | "state" | "model" | "provider" | "subBatchKey" | "category" | "tier" | "statusCode" | "errorCode" | "costUsd" | "cached">> & { index: number; resultJson?: Uint8Array };

export class BatchWorker {
  readonly holder = `edge-${randomUUID()}`;
  private started = false;
  /** Set by stop(): a pass in progress ends at its next step. */
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> | undefined;
  private intervalMs: number;
  private leader = false;
  private snapshot: { count: number; oldest: Date | undefined } = { count: 0, oldest: undefined };

  constructor(private readonly deps: EdgeDeps) {
    this.intervalMs = deps.config.batches.poll_min_ms;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.schedule(0);
  }

  /** Stops polling, waits for the pass in progress and gives the lease up (another edge takes over at once). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.current;
    if (this.leader) await this.deps.clients.ledger.acquireLease({ name: LEASE_NAME, holder: this.holder, release: true }).catch(() => undefined);
    this.leader = false;
  }

  /** New work (a batch created or cancelled here): poll soon. */
  wake(): void {
    this.intervalMs = this.deps.config.batches.poll_min_ms;
    if (this.started && !this.stopped && this.current === undefined) this.schedule(0);
  }

  /** Unfinished batches seen on the last pass (this replica holds the lease), oldest first. */
  waiting(): { count: number; oldest: Date | undefined } {
    return this.leader ? this.snapshot : { count: 0, oldest: undefined };
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.current = this.tick()
        .then((changed) => {
          const { poll_min_ms, poll_max_ms } = this.deps.config.batches;
          this.intervalMs = changed ? poll_min_ms : Math.min(poll_max_ms, this.intervalMs * 2);
        })
        .catch((e: unknown) => {
          this.deps.logger.warn({ err: errMsg(e) }, "batch worker pass failed; retrying");
          this.intervalMs = Math.min(this.deps.config.batches.poll_max_ms, this.intervalMs * 2);
        })
        .finally(() => {
          this.current = undefined;
          if (!this.stopped) this.schedule(this.intervalMs);
        });
    }, ms);
    this.timer.unref();
  }

  /** One pass over every unfinished batch; true when something moved. */
  async tick(): Promise<boolean> {
    if (!(await this.renew())) return false;
    const { jobs } = await this.deps.clients.ledger.listBatchJobs({ activeOnly: true, limit: 1_000 });
    const oldestFirst = [...jobs].reverse();
    this.snapshot = { count: jobs.length, oldest: oldestFirst[0] ? new Date(Number(oldestFirst[0].createdAt) * 1000) : undefined };
    let changed = false;
    for (const j of oldestFirst) {
      if (this.stopped || !(await this.renew())) break;
      try {
        changed = (await this.advance(j)) || changed;
      } catch (e) {
        // One batch's trouble (a provider down) must not hold up the others.
        this.deps.logger.warn({ err: errMsg(e), batchId: j.id, status: j.status }, "batch not advanced; retrying");
      }
    }
    return changed;
  }

  private async renew(): Promise<boolean> {
    const res = await this.deps.clients.ledger.acquireLease({ name: LEASE_NAME, holder: this.holder, ttlMs: this.deps.config.batches.lease_ttl_ms });
    this.leader = res.acquired;
    return res.acquired;
  }

  private async advance(j: BatchJob): Promise<boolean> {
    if ((j.status === "validating" || j.status === "in_progress") && BigInt(nowSec()) >= j.expiresAt) {
      await this.stopProviderBatches(j);
      await this.end(j, "expired", [j.status], "batch_expired", "The batch did not finish within its completion window.");
      return true;
    }
    switch (j.status) {
      case "validating":
        if (!(await this.routeLines(j))) return true;
        await this.ledger().updateBatchJob({ job: { id: j.id, status: "in_progress", inProgressAt: BigInt(nowSec()) }, expectedStatuses: ["validating"] });
        return true;
      case "in_progress":
        return this.progress(j);
      case "finalizing":
        await this.end(j, "completed", ["finalizing"]);
        return true;
      case "cancelling":
        return this.cancel(j);
      default:
        return false;
    }
  }

  private ledger() {
    return this.deps.clients.ledger;
  }

  /** Lines in the given states, in index order, all pages. */
  private async lines(batchId: string, states: string[], opts: { body?: boolean; result?: boolean } = {}): Promise<BatchLine[]> {
    const out: BatchLine[] = [];
    let from = 0;
    for (;;) {
      const { lines } = await this.ledger().getBatchLines({ batchId, fromIndex: from, limit: PAGE, states, includeBody: opts.body === true, includeResult: opts.result === true });
      out.push(...lines);
      const last = lines.at(-1);
      if (lines.length < PAGE || last === undefined) return out;
      from = last.index + 1;
    }
  }

  /** Routes pending lines in chunks; false when the batch left "validating" meanwhile (a cancel). */
  private async routeLines(j: BatchJob): Promise<boolean> {
    const pending = await this.lines(j.id, ["pending"], { body: true });
    const chunk = Math.max(1, this.deps.config.batches.route_concurrency) * 4;
    for (let i = 0; i < pending.length; i += chunk) {
      if (this.stopped || !(await this.renew())) return false;
      const now = await this.ledger().getBatchJob({ id: j.id });
      if (now.job?.status !== "validating") return false;
      const part = pending.slice(i, i + chunk);
      const updates = await mapLimit(part, this.deps.config.batches.route_concurrency, (l) => this.routeLine(j, l));
      // Cache hits are billed before they are recorded: a crash in between republishes the same ids.
      await this.publish(j, updates.flatMap((u) => (u.billing ? [u.billing] : [])));
      await this.ledger().updateBatchLines({ batchId: j.id, lines: updates.map((u) => u.update) });
    }
    return true;
  }

  private async routeLine(j: BatchJob, l: BatchLine): Promise<{ update: LineUpdate; billing?: Billing }> {
    const r = await routeBatchLine(this.deps, { requestId: `${j.id}:${l.index}`, tenantId: j.tenantId, keyId: j.keyId }, decoder.decode(l.bodyJson));
    const base = { index: l.index, category: r.category, tier: r.tier };
    if (r.kind === "refused") {
      return { update: { ...base, state: "failed", statusCode: 400, errorCode: r.code, resultJson: json({ error: { message: r.message, type: "invalid_request_error", param: "model", code: r.code } }) } };
    }
    if (r.kind === "routed") return { update: { ...base, state: "routed", model: r.model, provider: r.provider, subBatchKey: r.live ? liveKey(j.id, r.model) : `${j.id}:${r.model}` } };
    let usage: UsageCounts | null = null;
    try {
      usage = usageOf(JSON.parse(r.completionJson));
    } catch {
      usage = null;
    }
    return {
      update: { ...base, state: "succeeded", model: r.model, provider: "cache", cached: true, statusCode: 200, costUsd: "0", resultJson: encoder.encode(r.completionJson) },
      billing: { line: { index: l.index, requestedModel: l.requestedModel, model: r.model, provider: "cache", category: r.category, tier: r.tier }, usage, cached: true },
    };
  }

  private async progress(j: BatchJob): Promise<boolean> {
    let changed = false;
    const routed = await this.lines(j.id, ["routed"], { body: true });
    const subs = new Map((await this.ledger().listSubBatches({ batchId: j.id })).subBatches.map((s) => [s.key, s]));
    const groups = new Map<string, BatchLine[]>();
    for (const l of routed) groups.set(l.subBatchKey, [...(groups.get(l.subBatchKey) ?? []), l]);
    for (const [key, lines] of groups) {
      const first = lines[0];
      if (!first) continue;
      if (isLiveKey(key)) await this.runLive(j, lines);
      else if (!(await this.submit(j, key, first.model, first.provider, lines, subs.get(key)))) continue;
      changed = true;
    }
    for (const sub of (await this.ledger().listSubBatches({ batchId: j.id })).subBatches) {
      if (sub.state !== "submitted") continue;
      const pb = parseJson((await this.deps.clients.executor.getBatch({ context: ctx(j), model: sub.model, providerBatchId: sub.providerBatchId })).batchJson);
      if (!PROVIDER_DONE.has(String(pb["status"]))) continue;
      await this.collect(j, sub, pb);
      changed = true;
    }
    const open = await this.ledger().getBatchLines({ batchId: j.id, states: ACTIVE_LINE_STATES, limit: 1 });
    if (open.lines.length === 0) {
      await this.ledger().updateBatchJob({ job: { id: j.id, status: "finalizing", finalizingAt: BigInt(nowSec()) }, expectedStatuses: ["in_progress"] });
      return true;
    }
    return changed;
  }

  /**
   * Lines whose provider has no batch API, run as ordinary calls (purpose "batch") a few at a time.
   * They stay "routed" until their result is recorded: after a crash an unrecorded line runs again
   * (at least once at the provider) but is billed once, since its event id is the line's.
   */
  private async runLive(j: BatchJob, lines: BatchLine[]): Promise<void> {
    const { live_concurrency } = this.deps.config.batches;
    const chunk = live_concurrency * 4;
    for (let i = 0; i < lines.length; i += chunk) {
      if (this.stopped || !(await this.renew())) return;
      const now = await this.ledger().getBatchJob({ id: j.id });
      if (now.job?.status !== "in_progress") return;
      const done = await mapLimit(lines.slice(i, i + chunk), live_concurrency, (l) => this.runLiveLine(j, l));
      await this.publish(j, done.flatMap((d) => (d.billing ? [d.billing] : [])));
      await this.ledger().updateBatchLines({ batchId: j.id, lines: done.map((d) => d.update) });
    }
  }

  private async runLiveLine(j: BatchJob, l: BatchLine): Promise<{ update: LineUpdate; billing?: Billing }> {
    const m = this.deps.config.models[l.model];
    const candidate = { model: l.model, provider: l.provider, upstreamModel: m?.upstream ?? l.model, contextWindow: BigInt(m?.context_window ?? 0) };
    const body = { ...parseJson(l.bodyJson), model: l.model, stream: false };
    const context = { requestId: batchLineRequestId(j.id, l.index), tenantId: j.tenantId, keyId: j.keyId, traceId: "" };
    const r = await runNonStreaming(this.deps.clients, { context, candidates: [create(CandidateSchema, candidate)], requestJson: json(body), stream: false, purpose: "batch" });
    if (r.completion) {
      const usage = usageOf(r.completion);
      const cost = usage ? this.deps.pricing.cost(l.model, toProtoUsage(usage), new Date()).usd : "0";
      return {
        update: { index: l.index, state: "succeeded", statusCode: 200, costUsd: cost, resultJson: json(r.completion) },
        billing: { line: l, usage, cached: false, live: true },
      };
    }
    const f = r.failure;
    const status = f?.httpStatus || 502;
    const body2 = { error: { message: f?.message || "The provider failed.", type: f?.type || "server_error", param: f?.param || null, code: f?.code || null } };
    return { update: { index: l.index, state: "failed", statusCode: status, errorCode: f?.code || "provider_error", resultJson: json(body2) } };
  }

  /**
   * One provider batch per sub-batch key, at most once: "submitting" is recorded first; a sub-batch
   * found in "submitting" (a crash between asking and recording) is looked up by its key first.
   * false: nothing changed (the lookup is pending: a provider batch that may be ours is still running).
   */
  private async submit(j: BatchJob, key: string, model: string, provider: string, lines: BatchLine[], sub: SubBatch | undefined): Promise<boolean> {
    let providerBatchId = sub?.providerBatchId ?? "";
    if (!providerBatchId) {
      if (sub?.state === "submitting") {
        const found = await this.find(j, model, key);
        if (found === PENDING) {
          this.deps.logger.info({ batchId: j.id, key }, "sub-batch left submitting: a provider batch that may be ours is still running; asking again later");
          return false;
        }
        if (found === undefined) {
          // The provider cannot look batches up (e.g. Anthropic Message Batches have no metadata): rather
          // than risk running and billing these lines twice, they fail as of unknown submission.
          const code = "batch_submission_unknown";
          const message = "The gateway restarted while submitting this request and cannot tell whether the provider received it.";
          await this.ledger().updateBatchLines({ batchId: j.id, lines: lines.map((l) => ({ index: l.index, state: "failed", errorCode: code, resultJson: json({ error: { code, message } }) })) });
          await this.ledger().putSubBatch({ subBatch: { batchId: j.id, key, model, provider, state: "failed" } });
          this.deps.logger.error({ batchId: j.id, key, lines: lines.length }, "sub-batch submission unknown after a restart and the provider cannot find batches by key: its lines failed");
          return true;
        }
        providerBatchId = found;
      } else {
        await this.ledger().putSubBatch({ subBatch: { batchId: j.id, key, model, provider, state: "submitting" } });
      }
    }
    if (!providerBatchId) {
      const jsonl = lines.map((l) => JSON.stringify({ custom_id: providerCustomId(key, l.index), method: "POST", url: BATCH_ENDPOINT, body: { ...parseJson(l.bodyJson), model } })).join("\n") + "\n";
      const created = await this.deps.clients.executor.createBatch({ context: ctx(j), model, inputJsonl: encoder.encode(jsonl), endpoint: BATCH_ENDPOINT, completionWindow: "24h", metadata: { [IDEMPOTENCY_KEY]: key } });
      providerBatchId = String(parseJson(created.batchJson)["id"] ?? "");
      if (!providerBatchId) throw new Error("the provider returned a batch without an id");
      provider = created.provider || provider;
      this.deps.logger.info({ batchId: j.id, key, providerBatchId, lines: lines.length }, "batch sub-batch submitted");
    }
    await this.ledger().putSubBatch({ subBatch: { batchId: j.id, key, model, provider, state: "submitted", providerBatchId } });
    await this.ledger().updateBatchLines({ batchId: j.id, lines: lines.map((l) => ({ index: l.index, state: "submitted" })) });
    return true;
  }

  /**
   * The provider batch id created under this key ("" when none was), PENDING when a batch that may be it
   * is still running, or undefined when the provider cannot tell. The key rides in the metadata (OpenAI)
   * and in every custom_id's prefix (Anthropic, which has no metadata).
   */
  private async find(j: BatchJob, model: string, key: string): Promise<string | typeof PENDING | undefined> {
    try {
      const createdAfter = j.createdAt > 0n ? j.createdAt - BigInt(FIND_CLOCK_SKEW_SEC) : 0n;
      const found = await this.deps.clients.executor.findBatch({ context: ctx(j), model, metadataKey: IDEMPOTENCY_KEY, metadataValue: key, customIdPrefix: providerCustomIdPrefix(key), createdAfter });
      if (found.pending) return PENDING;
      return found.found ? String(parseJson(found.batchJson)["id"] ?? "") : "";
    } catch (e) {
      if (e instanceof ConnectError && e.code === Code.Unimplemented) return undefined;
      throw e;
    }
  }

  /** A finished provider batch's lines into the ledger: successes billed (once), failures kept. */
  private async collect(j: BatchJob, sub: SubBatch, pb: Record<string, unknown>): Promise<void> {
    const byIndex = new Map<number, BatchOutputLine>();
    for (const k of ["output_file_id", "error_file_id"]) {
      const fid = pb[k];
      if (typeof fid !== "string" || fid.length === 0) continue;
      const out = await this.deps.clients.executor.getBatchOutput({ context: ctx(j), model: sub.model, providerFileId: fid });
      for (const line of parseBatchOutput(decoder.decode(out.content)).lines) {
        const idx = indexOfProviderCustomId(line.customId, sub.key);
        if (idx !== undefined) byIndex.set(idx, line);
      }
    }
    const mine = (await this.lines(j.id, ["submitted"])).filter((l) => l.subBatchKey === sub.key);
    const status = String(pb["status"]);
    const missing = status === "expired" ? "batch_expired" : status === "cancelled" ? "batch_cancelled" : "batch_line_missing";
    const at = new Date();
    const updates: LineUpdate[] = [];
    const billing: Billing[] = [];
    for (const l of mine) {
      const out = byIndex.get(l.index);
      if (out?.status === 200) {
        const cost = out.usage ? this.deps.pricing.cost(l.model, toProtoUsage(out.usage), at, { batch: true }).usd : "0";
        updates.push({ index: l.index, state: "succeeded", statusCode: 200, costUsd: cost, resultJson: json(out.body) });
        billing.push({ line: l, usage: out.usage, cached: false });
      } else if (out) {
        updates.push({ index: l.index, state: "failed", statusCode: out.status, errorCode: out.errorCode, resultJson: json(out.body ?? { error: { message: "The request failed.", code: out.errorCode } }) });
      } else {
        updates.push({ index: l.index, state: "failed", errorCode: missing, resultJson: json({ error: { code: missing, message: `The provider batch ended ${status} without an answer for this request.` } }) });
      }
    }
    await this.publish(j, billing);
    for (let i = 0; i < updates.length; i += PAGE) await this.ledger().updateBatchLines({ batchId: j.id, lines: updates.slice(i, i + PAGE) });
    await this.ledger().putSubBatch({ subBatch: { ...sub, state: "done" } });
  }

  private async cancel(j: BatchJob): Promise<boolean> {
    const subs = (await this.ledger().listSubBatches({ batchId: j.id })).subBatches;
    let waiting = false;
    for (const sub of subs) {
      if (sub.state === "submitting") {
        // Asked for, never recorded: find it to cancel it; not found means it was never created.
        const found = await this.find(j, sub.model, sub.key);
        if (found === PENDING) {
          waiting = true;
          continue;
        }
        const id = found ?? "";
        await this.ledger().putSubBatch({ subBatch: { ...sub, state: id ? "submitted" : "done", providerBatchId: id } });
        if (id) waiting = true;
        continue;
      }
      if (sub.state !== "submitted") continue;
      let pb = parseJson((await this.deps.clients.executor.getBatch({ context: ctx(j), model: sub.model, providerBatchId: sub.providerBatchId })).batchJson);
      if (!PROVIDER_DONE.has(String(pb["status"]))) pb = parseJson((await this.deps.clients.executor.cancelBatch({ context: ctx(j), model: sub.model, providerBatchId: sub.providerBatchId })).batchJson);
      if (PROVIDER_DONE.has(String(pb["status"]))) await this.collect(j, sub, pb);
      else waiting = true;
    }
    if (waiting) return true;
    await this.end(j, "cancelled", ["cancelling"], "batch_cancelled", "The batch was cancelled before this request ran.");
    return true;
  }

  /** Expiry: provider batches still running are cancelled (best effort); what they finished is lost to the window. */
  private async stopProviderBatches(j: BatchJob): Promise<void> {
    for (const sub of (await this.ledger().listSubBatches({ batchId: j.id })).subBatches) {
      if (sub.state !== "submitted") continue;
      await this.deps.clients.executor.cancelBatch({ context: ctx(j), model: sub.model, providerBatchId: sub.providerBatchId }).catch(() => undefined);
    }
  }

  /** Lines still open fail with `code`; output and error files assembled in input order; reservation settled. */
  private async end(j: BatchJob, final: FinalStatus, from: string[], code = "", message = ""): Promise<void> {
    if (code) {
      const open = await this.lines(j.id, ACTIVE_LINE_STATES);
      const updates = open.map((l) => ({ index: l.index, state: "failed", errorCode: code, resultJson: json({ error: { code, message } }) }));
      for (let i = 0; i < updates.length; i += PAGE) await this.ledger().updateBatchLines({ batchId: j.id, lines: updates.slice(i, i + PAGE) });
    }
    const all = await this.lines(j.id, [], { result: true });
    const out: string[] = [];
    const err: string[] = [];
    let spent = new Decimal(0);
    for (const l of all) {
      const body = parseJsonOrNull(l.resultJson);
      const requestId = `${j.id}:${l.index}`;
      const id = `batch_req_${j.id.replace(/^batch_/, "")}_${l.index}`;
      if (l.state === "succeeded") {
        out.push(JSON.stringify({ id, custom_id: l.customId, response: { status_code: 200, request_id: requestId, body }, error: null }));
        if (l.costUsd) spent = spent.plus(l.costUsd);
      } else if (l.statusCode > 0) {
        err.push(JSON.stringify({ id, custom_id: l.customId, response: { status_code: l.statusCode, request_id: requestId, body }, error: null }));
      } else {
        const e = isObj(body) && isObj(body["error"]) ? body["error"] : { code: l.errorCode, message: "The request did not run." };
        err.push(JSON.stringify({ id, custom_id: l.customId, response: null, error: { code: e["code"] ?? l.errorCode, message: e["message"] ?? "" } }));
      }
    }
    // Deterministic ids: assembling again after a crash rewrites nothing.
    const put = async (suffix: string, lines: string[]) => {
      if (lines.length === 0) return "";
      const id = `file-llmgw-${j.id}-${suffix}`;
      await this.ledger().putBatchFile({ file: { id, tenantId: j.tenantId, filename: `${j.id}_${suffix}.jsonl`, purpose: "batch_output", createdAt: BigInt(nowSec()), content: encoder.encode(`${lines.join("\n")}\n`) } });
      return id;
    };
    const outputFileId = await put("output", out);
    const errorFileId = await put("errors", err);
    const t = BigInt(nowSec());
    const times = final === "completed" ? { completedAt: t } : final === "cancelled" ? { cancelledAt: t } : { expiredAt: t };
    // Every success billed again under its same id before the batch is final: a no-op for lines the
    // ledger has, and the bill for any whose event was lost (an embedded bus dies with its process).
    await this.publish(j, all.filter((l) => l.state === "succeeded").map((l) => ({ line: l, usage: usageOf(parseJsonOrNull(l.resultJson)), cached: l.cached })));
    // Embedded: those events live only in this process until the ledger takes them; once the batch is
    // final nothing republishes them, so a kill right after would lose the bills (JetStream: a no-op).
    if (this.deps.events.flush && !(await this.deps.events.flush())) throw new Error("the ledger has not taken the batch's bills yet");
    const res = await this.ledger().updateBatchJob({ job: { id: j.id, status: final, outputFileId, errorFileId, ...times }, expectedStatuses: from });
    if (res.updated && j.reservedUsd) {
      // The worst case reserved at creation becomes what the succeeded lines cost (batch price).
      await this.ledger().settleBudget({ reservationId: j.id, actualUsd: spent.toFixed() }).catch((e: unknown) => this.deps.logger.warn({ err: errMsg(e), batchId: j.id }, "batch reservation not settled; it expires by TTL"));
    }
    if (res.updated) this.deps.logger.info({ batchId: j.id, status: final, succeeded: out.length, failed: err.length, costUsd: spent.toFixed() }, "batch finished");
  }

  /** One RequestCompleted per succeeded line, awaited (not the outbox: a line is marked only once billed). */
  private async publish(j: BatchJob, billing: Billing[]): Promise<void> {
    if (billing.length === 0) return;
    const subject = subjects(this.deps.events.names).requestCompleted;
    const baseline = (requested: string) => (this.deps.config.edge.aliases.includes(requested) ? this.deps.config.routing.reference_model : requested);
    const at = new Date();
    const createdAt = new Date(Number(j.createdAt) * 1000);
    await mapLimit(billing, 32, async (b) => {
      const ev = batchLineCompletedBytes(
        { batchId: j.id, index: b.line.index, tenantId: j.tenantId, keyId: j.keyId, createdAt, requestedModel: b.line.requestedModel, baselineModel: baseline(b.line.requestedModel), model: b.line.model, provider: b.line.provider, tier: b.line.tier, category: b.line.category, cached: b.cached, live: b.live === true, usage: b.usage },
        at,
      );
      await this.deps.events.publish(subject, ev.data, ev.requestId);
    });
  }
}

interface Billing {
  line: Pick<BatchLine, "index" | "requestedModel" | "model" | "provider" | "tier" | "category">;
  usage: UsageCounts | null;
  cached: boolean;
  live?: boolean;
}

/** Sub-batch key of a batch's lines that run live on `model` (no provider batch is created for it). */
function liveKey(batchId: string, model: string): string {
  return `${batchId}:live:${model}`;
}

function isLiveKey(key: string): boolean {
  return key.includes(":live:");
}

function usageOf(completion: unknown): UsageCounts | null {
  return isObj(completion) && isObj(completion["usage"]) ? fromOpenAIUsageJson(completion["usage"]) : null;
}

function ctx(j: BatchJob) {
  return { requestId: `${j.id}:worker`, tenantId: j.tenantId, keyId: j.keyId, traceId: "" };
}

function json(v: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(v ?? null));
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function parseJsonOrNull(b: Uint8Array): unknown {
  try {
    return b.length > 0 ? (JSON.parse(decoder.decode(b)) as unknown) : null;
  } catch {
    return null;
  }
}

function parseJson(b: Uint8Array): Record<string, unknown> {
  const v = parseJsonOrNull(b);
  if (!isObj(v)) throw new Error("the provider returned unreadable JSON");
  return v;
}

async function mapLimit<T, R>(items: readonly T[], limit: number, f: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const run = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
  return out;
}
