// FindBatch for Anthropic Message Batches, which carry no metadata: the caller's custom_ids all start with a
// prefix derived from its idempotency key, so a batch is ours when its results' custom_ids carry that prefix.
// Results exist only once a batch has ended: a batch still running in the window might be ours and is
// answered "pending" (ask again later), never "absent" — absent means submitting again is safe.
import type Anthropic from "@anthropic-ai/sdk";

type MessageBatch = Anthropic.Messages.MessageBatch;

export type FindOutcome = { kind: "found"; batch: MessageBatch } | { kind: "pending" } | { kind: "absent" } | { kind: "too_many" };

export interface FindScan {
  /** The provider's batches, newest first. */
  batches: AsyncIterable<MessageBatch>;
  /** The custom_id of one result of an ended batch (any: all of a batch's ids share the prefix), undefined when it has none. */
  firstCustomId: (batchId: string) => Promise<string | undefined>;
  prefix: string;
  /** Unix seconds: batches created earlier are not candidates. */
  createdAfterSec: number;
  /** Bounds the scan: past it the answer is "too_many", not "absent". */
  maxScanned: number;
}

function createdSec(b: MessageBatch): number {
  const ms = Date.parse(b.created_at);
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : Number.POSITIVE_INFINITY;
}

export async function findByCustomIdPrefix(s: FindScan): Promise<FindOutcome> {
  let pending = false;
  let scanned = 0;
  for await (const b of s.batches) {
    if (createdSec(b) < s.createdAfterSec) break;
    if (++scanned > s.maxScanned) return { kind: "too_many" };
    if (b.processing_status !== "ended") {
      pending = true;
      continue;
    }
    const id = await s.firstCustomId(b.id);
    if (id?.startsWith(s.prefix)) return { kind: "found", batch: b };
  }
  return pending ? { kind: "pending" } : { kind: "absent" };
}
