import type Anthropic from "@anthropic-ai/sdk";
import { describe, expect, it } from "vitest";
import { findByCustomIdPrefix, type FindScan } from "./anthropic-batch-find.ts";

type MessageBatch = Anthropic.Messages.MessageBatch;

const T0 = 1_800_000_000;
function batch(id: string, createdSec: number, ended: boolean): MessageBatch {
  return {
    id,
    type: "message_batch",
    processing_status: ended ? "ended" : "in_progress",
    request_counts: { processing: ended ? 0 : 1, succeeded: ended ? 1 : 0, errored: 0, canceled: 0, expired: 0 },
    created_at: new Date(createdSec * 1000).toISOString(),
    ended_at: ended ? new Date(createdSec * 1000 + 5_000).toISOString() : null,
    expires_at: new Date((createdSec + 86_400) * 1000).toISOString(),
    archived_at: null,
    cancel_initiated_at: null,
    results_url: null,
  };
}

/** Newest first, as the provider lists; firstIds: each ended batch's first result custom_id. */
function scan(batches: MessageBatch[], firstIds: Record<string, string | undefined>, over: Partial<FindScan> = {}): { s: FindScan; read: string[] } {
  const read: string[] = [];
  async function* list() {
    yield* batches;
  }
  const s: FindScan = {
    batches: list(),
    firstCustomId: async (id) => {
      read.push(id);
      return firstIds[id];
    },
    prefix: "0123456789abcdef-",
    createdAfterSec: T0 - 60,
    maxScanned: 100,
    ...over,
  };
  return { s, read };
}

describe("findByCustomIdPrefix (Anthropic FindBatch)", () => {
  it("finds the ended batch whose results carry the prefix among others' batches", async () => {
    const { s, read } = scan([batch("b3", T0 + 3, true), batch("b2", T0 + 2, true), batch("b1", T0 + 1, true)], { b3: "x-1", b2: "0123456789abcdef-l0", b1: "0123456789abcdef-l9" });
    const out = await findByCustomIdPrefix(s);
    expect(out.kind === "found" && out.batch.id).toBe("b2");
    expect(read).toEqual(["b3", "b2"]);
  });

  it("pending while a candidate is still running and no ended one matches; running batches' results are not read", async () => {
    const { s, read } = scan([batch("b2", T0 + 2, true), batch("b1", T0 + 1, false)], { b2: "other-0" });
    expect(await findByCustomIdPrefix(s)).toEqual({ kind: "pending" });
    expect(read).toEqual(["b2"]);
  });

  it("found wins over a running candidate", async () => {
    const { s } = scan([batch("b2", T0 + 2, false), batch("b1", T0 + 1, true)], { b1: "0123456789abcdef-l3" });
    const out = await findByCustomIdPrefix(s);
    expect(out.kind === "found" && out.batch.id).toBe("b1");
  });

  it("absent only when every candidate has ended and none matches (a prefix of another tag or an empty batch is not ours)", async () => {
    const { s } = scan([batch("b3", T0 + 3, true), batch("b2", T0 + 2, true), batch("b1", T0 + 1, true)], { b3: "0123456789abcdef", b2: "1123456789abcdef-l0", b1: undefined });
    expect(await findByCustomIdPrefix(s)).toEqual({ kind: "absent" });
  });

  it("stops at created_after: older batches are neither read nor make the answer pending", async () => {
    const { s, read } = scan([batch("b2", T0 + 2, true), batch("old-running", T0 - 3_600, false), batch("old", T0 - 7_200, true)], { b2: "x-0", old: "0123456789abcdef-l0" });
    expect(await findByCustomIdPrefix(s)).toEqual({ kind: "absent" });
    expect(read).toEqual(["b2"]);
  });

  it("past the scan bound it cannot tell: too_many, never absent", async () => {
    const many = Array.from({ length: 5 }, (_, i) => batch(`b${i}`, T0 + 10 - i, true));
    const { s } = scan(many, {}, { maxScanned: 3 });
    expect(await findByCustomIdPrefix(s)).toEqual({ kind: "too_many" });
  });
});
