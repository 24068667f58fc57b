// Announcements every process must hear at once (a key revoked), beside the event stream: core NATS
// publish/subscribe in the mesh (every subscriber gets every message; nothing stored, nothing to
// ack), an in-process fan-out in embedded mode. At most once by design: whoever listens keeps a
// slower fallback (the auth cache TTL) for a message lost while it was disconnected.
// The broadcast itself is each bus's own (EventBus.broadcast()); here are its subjects and messages.
import type { BusNames } from "./subjects.ts";

/**
 * Subjects outside the events stream's `<prefix>.>` (so JetStream does not store them), still
 * namespaced by the prefix (tests and tenants of one NATS stay apart).
 */
export function broadcastSubjects(n: BusNames) {
  return { keyRevoked: `${n.prefix}_broadcast.key.revoked` };
}

/** What a revocation announces: the key id (the raw key never leaves the ledger). */
export const encodeKeyRevoked = (keyId: string): Uint8Array => new TextEncoder().encode(JSON.stringify({ key_id: keyId }));

export function decodeKeyRevoked(data: Uint8Array): string | undefined {
  try {
    const v: unknown = JSON.parse(new TextDecoder().decode(data));
    const id = typeof v === "object" && v !== null ? (v as { key_id?: unknown }).key_id : undefined;
    return typeof id === "string" && id ? id : undefined;
  } catch {
    return undefined;
  }
}
