// Announcements every process must hear at once (a key revoked), beside the event stream: core NATS
// publish/subscribe in the mesh (every subscriber gets every message; nothing stored, nothing to
// ack), an in-process fan-out in embedded mode. At most once by design: whoever listens keeps a
// slower fallback (the auth cache TTL) for a message lost while it was disconnected.
import type { EventBus } from "./event-bus.ts";
import { NatsEventBus } from "./nats-bus.ts";
import type { BusNames } from "./subjects.ts";

export type BroadcastHandler = (data: Uint8Array) => void;

export interface Broadcast {
  announce(subject: string, data: Uint8Array): Promise<void>;
  /** Returns the function that stops listening. */
  listen(subject: string, handler: BroadcastHandler): () => void;
}

/**
 * Subjects outside the events stream's `<prefix>.>` (so JetStream does not store them), still
 * namespaced by the prefix (tests and tenants of one NATS stay apart).
 */
export function broadcastSubjects(n: BusNames) {
  return { keyRevoked: `${n.prefix}_broadcast.key.revoked` };
}

const inProcess = new WeakMap<EventBus, Map<string, Set<BroadcastHandler>>>();

/** The broadcast that reaches every process sharing this bus. */
export function broadcastOn(bus: EventBus): Broadcast {
  if (bus instanceof NatsEventBus) {
    const nc = bus.connection;
    return {
      async announce(subject, data) {
        nc.publish(subject, data);
        // Flushed, so the announcement is on the server before the caller answers its client.
        await nc.flush();
      },
      listen(subject, handler) {
        const sub = nc.subscribe(subject, {
          callback: (err, msg) => {
            if (!err) handler(msg.data);
          },
        });
        return () => sub.unsubscribe();
      },
    };
  }
  let topics = inProcess.get(bus);
  if (!topics) inProcess.set(bus, (topics = new Map()));
  const t = topics;
  return {
    async announce(subject, data) {
      for (const h of t.get(subject) ?? []) {
        try {
          h(data);
        } catch {
          // one listener's failure is not the announcer's
        }
      }
    },
    listen(subject, handler) {
      let set = t.get(subject);
      if (!set) t.set(subject, (set = new Set()));
      set.add(handler);
      return () => set.delete(handler);
    },
  };
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
