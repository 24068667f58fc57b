// In-process mode: the embedded gateway (every service in this process, PGlite ledger, in-process
// bus) and calls into its edge with no socket: the openai client's fetch is Fastify's inject, so a
// call skips TCP and the kernel but still runs the edge's route code (auth, validation, errors,
// headers) on the serialized JSON body. Calling the chat pipeline with objects, skipping the route
// and JSON as well, would need the route logic moved out of services/edge/app.ts first.
// This entry imports the gateway itself, so it works where the llmgw package is installed.
import OpenAI from "openai";
import { startEmbedded, type Embedded, type EmbeddedOptions } from "../../../services/embedded/compose.ts";
import { LlmgwClient, type ClientOptions } from "./client.ts";
import { injectFetch, type InjectTarget } from "./inject-fetch.ts";

export interface InProcessOptions extends Omit<ClientOptions, "apiKey"> {
  /** Default: the admin key the embedded gateway created on its first start. */
  apiKey?: string;
  /** A running edge to call (e.g. `embedded.edge.app`) instead of starting a gateway. */
  edge?: InjectTarget;
  /** How to start the embedded gateway (default: a throwaway in-memory ledger, loopback port 0). */
  gateway?: EmbeddedOptions;
}

export class InProcessClient extends LlmgwClient {
  constructor(
    openai: OpenAI,
    /** The gateway this client started; undefined when it was given an edge. */
    readonly embedded: Embedded | undefined,
  ) {
    super("in-process", openai, async () => {
      await embedded?.stop();
    });
  }
}

export async function inProcess(o: InProcessOptions = {}): Promise<InProcessClient> {
  const embedded = o.edge ? undefined : await startEmbedded({ port: 0, host: "127.0.0.1", dataDir: "memory", ...o.gateway });
  const target = o.edge ?? embedded?.edge.app;
  const apiKey = o.apiKey ?? embedded?.createdAdminKey;
  if (!target || !apiKey) {
    await embedded?.stop();
    throw new Error("inProcess: pass apiKey (the gateway created no admin key: one was configured, e.g. LLMGW_API_KEY)");
  }
  const openai = new OpenAI({
    // The host is never dialled: inject hands the request to the edge's router.
    baseURL: "http://llmgw.in-process/v1",
    apiKey,
    maxRetries: o.maxRetries ?? 2,
    fetch: injectFetch(target),
    ...(o.timeout !== undefined ? { timeout: o.timeout } : {}),
    ...(o.defaultHeaders ? { defaultHeaders: o.defaultHeaders } : {}),
  });
  return new InProcessClient(openai, embedded);
}

export type { EmbeddedOptions } from "../../../services/embedded/compose.ts";
export * from "./index.ts";
