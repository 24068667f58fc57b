// Every edge drops a revoked key from its auth cache the moment the ledger announces it (the ledger
// announces after storing the revocation, whichever edge asked). The cache TTL stays as the fallback
// for an announcement this edge missed (disconnected from the broker at that moment).
import { broadcastSubjects, decodeKeyRevoked } from "#libs/bus/broadcast.ts";
import type { EventBus } from "#libs/bus/event-bus.ts";
import type { Logger } from "#libs/log/logger.ts";
import type { KeyAuthenticator } from "./auth.ts";

export function followRevocations(bus: EventBus, auth: Pick<KeyAuthenticator, "forgetKeyId">, logger: Pick<Logger, "info">): () => void {
  return bus.broadcast().listen(broadcastSubjects(bus.names).keyRevoked, (data) => {
    const keyId = decodeKeyRevoked(data);
    if (!keyId) return;
    auth.forgetKeyId(keyId);
    logger.info({ keyId }, "revoked key dropped from the auth cache");
  });
}
