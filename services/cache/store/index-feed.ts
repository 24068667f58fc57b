// How cache replicas hear each other's index changes: a JetStream stream in the mesh (nats-index-feed.ts),
// an in-process hub in tests. Every follower gets every event, in one order for all.
import type { IndexEvent } from "./semantic-entry.ts";

export type IndexEventHandler = (ev: IndexEvent) => void;

export interface IndexFeed {
  publish(ev: IndexEvent): Promise<void>;
  /**
   * Delivers every event published from now on, in publish order (the follow is in place when the
   * promise resolves). Returns the function that stops following.
   */
  follow(handler: IndexEventHandler): Promise<() => Promise<void>>;
}

/** Fan-out to every follower of one hub, asynchronously (as a broker would), in publish order. */
export class MemoryIndexFeed implements IndexFeed {
  private readonly followers = new Set<IndexEventHandler>();
  private chain: Promise<void> = Promise.resolve();

  async publish(ev: IndexEvent): Promise<void> {
    const targets = [...this.followers];
    this.chain = this.chain.then(() => {
      for (const h of targets) h(structuredClone(ev));
    });
    await this.chain;
  }

  async follow(handler: IndexEventHandler): Promise<() => Promise<void>> {
    this.followers.add(handler);
    return async () => {
      this.followers.delete(handler);
    };
  }
}
