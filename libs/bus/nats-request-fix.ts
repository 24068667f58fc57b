// nats.js 2.29.3 (the last 2.x release) rejects every answered request's promise once more when it
// cleans up: RequestOne.resolver() resolves it, then calls cancel(), which rejects it with a new
// NatsError ("Cancelled", stack captured), a no-op on a settled promise. Every JetStream publish is a
// request, so that is one wasted Error per event: ~2.8% of the mesh edge's CPU and ~2.1% of the
// ledger's at c=32 (profile, test/bench/README.md). After an answer, cancel() here skips the error.
// A request that ends without one (timeout, error, close) is cancelled exactly as before.
import type { NatsError } from "nats";
import { RequestOne } from "nats/lib/nats-base-client/request.js";

const ANSWERED = Symbol("llmgw.nats.answered");
type Request = RequestOne & { [ANSWERED]?: true };

let installed = false;

/** Idempotent: connectNatsBus installs it before its connection's first request. */
export function installNatsRequestFix(): void {
  if (installed) return;
  installed = true;
  const proto = RequestOne.prototype as Request;
  const resolver = proto.resolver;
  const cancel = proto.cancel;
  proto.resolver = function (this: Request, err, msg) {
    if (!err) this[ANSWERED] = true;
    resolver.call(this, err, msg);
  };
  proto.cancel = function (this: Request, err?: NatsError) {
    if (err === undefined && this[ANSWERED]) {
      // What the original does, less the rejection of a promise already resolved.
      this.timer?.cancel();
      this.mux.cancel(this);
      return;
    }
    cancel.call(this, err);
  };
}
