// Classes made after the answer (a named model's: only the after-answer hooks read them) go to the
// classifier in batches, one ClassifyBatch per window instead of one Classify per request. In the
// mesh one Classify cost the edge and the classifier far more in RPC overhead than the classifying.
// The window is 50 ms (was 10): with one request in flight a 10 ms batch held about three requests,
// and the classifier spent 209 µs per request at c=1 in the 7-process mesh (90 at 50 ms; npm run bench).
import { Code, ConnectError } from "@connectrpc/connect";
import { Batcher } from "#libs/batch/batcher.ts";
import type { ClassifyBatchResponse, ClassifyRequest, ClassifyResponse } from "#libs/gen/llmgw/classifier/v1/classifier_pb.ts";

/** The two calls of the classifier client this needs (the generated client, in-process or over RPC). */
export interface BatchClassifierClient {
  classify(req: ClassifyRequest): Promise<ClassifyResponse>;
  classifyBatch(req: { requests: ClassifyRequest[] }): Promise<ClassifyBatchResponse>;
}

interface Pending {
  req: ClassifyRequest;
  resolve: (r: ClassifyResponse) => void;
  reject: (e: unknown) => void;
}

export interface LateClassifierOptions {
  /** Longest a request waits for its batch to fill: its hooks (RequestCompleted) run that much later. */
  waitMs?: number;
  maxBatch?: number;
}

/**
 * Batches go out independently of each other (not one after the other): a slow batch must not hold
 * back the classes, and so the RequestCompleted and budget settlements, of the requests after it.
 */
export class LateClassifier {
  private readonly batcher: Batcher<Pending>;
  /** Set once the classifier answered Unimplemented (an older version during a rolling upgrade). */
  private oneByOne = false;

  constructor(
    private readonly client: BatchClassifierClient,
    opts: LateClassifierOptions = {},
  ) {
    this.batcher = new Batcher((items) => this.send(items), { max: opts.maxBatch ?? 64, waitMs: opts.waitMs ?? 50, mode: "independent" });
  }

  classify(req: ClassifyRequest): Promise<ClassifyResponse> {
    if (this.oneByOne) return this.client.classify(req);
    return new Promise((resolve, reject) => void this.batcher.push({ req, resolve, reject }));
  }

  private async send(items: Pending[]): Promise<void> {
    try {
      const res = await this.client.classifyBatch({ requests: items.map((i) => i.req) });
      if (res.results.length !== items.length) throw new Error(`ClassifyBatch answered ${res.results.length} results for ${items.length} requests`);
      items.forEach((item, k) => item.resolve(res.results[k] as ClassifyResponse));
    } catch (e) {
      if (ConnectError.from(e).code === Code.Unimplemented) {
        this.oneByOne = true;
        for (const item of items) this.client.classify(item.req).then(item.resolve, item.reject);
        return;
      }
      for (const item of items) item.reject(e);
    }
  }
}
