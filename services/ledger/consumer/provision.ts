import type { JetStreamManager } from "nats";
import { provisionConsumer, provisionStream, type StreamOptions } from "#libs/bus/provision.ts";
import { subjects, type BusNames } from "#libs/bus/subjects.ts";
import { LEDGER_DURABLE } from "./ledger-consumer.ts";

export { provisionStream, provisionConsumer } from "#libs/bus/provision.ts";

/**
 * Declares the events stream and the ledger's durable pull consumer. The declarations live in
 * libs/bus/provision.ts (one place, callable by the edge without importing this service).
 */
export async function provisionLedger(
  jsm: JetStreamManager,
  names: BusNames,
  opts: StreamOptions & { maxAckPending?: number; ackWaitMs?: number } = {},
): Promise<void> {
  await provisionStream(jsm, names, opts);
  await provisionConsumer(jsm, names, {
    durable: LEDGER_DURABLE,
    filterSubject: subjects(names).requestCompleted,
    maxAckPending: opts.maxAckPending ?? 2_000,
    ackWaitMs: opts.ackWaitMs ?? 30_000,
  });
}
