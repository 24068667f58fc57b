// Chat calls the simulator is answering right now and the most it has answered at once: what a
// self-hosted server would see, for tests and benches of the executor's live queue (concurrency bounds).

/** Paths counted: the chat calls (embeddings and batch/file endpoints are not live chat traffic). */
export const CHAT_PATHS: ReadonlySet<string> = new Set(["/v1/chat/completions", "/v1/messages"]);

export interface InFlightStats {
  current: number;
  max: number;
}

export class InFlightCounter {
  private current = 0;
  private max = 0;

  /** One call arrived; the returned function (idempotent) marks it answered or abandoned. */
  enter(): () => void {
    this.current++;
    if (this.current > this.max) this.max = this.current;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.current--;
    };
  }

  stats(): InFlightStats {
    return { current: this.current, max: this.max };
  }

  /** Starts a new maximum from what is in flight now. */
  resetMax(): void {
    this.max = this.current;
  }
}
