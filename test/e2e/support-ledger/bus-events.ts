// Reads events back from a mesh's JetStream stream (an ordered, ephemeral consumer: it takes
// nothing from the services' durable consumers).
import { fromBinary } from "@bufbuild/protobuf";
import { connect } from "nats";
import { subjects, type BusNames } from "#libs/bus/subjects.ts";
import { ShadowEvaluatedSchema, type ShadowEvaluated } from "#libs/gen/llmgw/events/v1/events_pb.ts";
import { NATS_URL } from "./ledger-db.ts";

/** Waits for the evaluator's verdict on the shadow test of one request. */
export async function waitForShadowEvaluated(names: BusNames, requestId: string, timeoutMs = 20_000): Promise<ShadowEvaluated> {
  const nc = await connect({ servers: NATS_URL });
  try {
    const consumer = await nc.jetstream().consumers.get(names.stream, { filterSubjects: subjects(names).shadowEvaluated });
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const m = await consumer.next({ expires: 1_000 });
      if (!m) continue;
      const ev = fromBinary(ShadowEvaluatedSchema, m.data);
      if (ev.context?.requestId === requestId) return ev;
    }
    throw new Error(`no ShadowEvaluated for ${requestId} within ${timeoutMs} ms`);
  } finally {
    await nc.close();
  }
}
