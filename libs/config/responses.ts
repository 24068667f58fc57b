// The Responses API's stored answers (kept by the ledger for GET /v1/responses/{id} and
// previous_response_id): how long they live.
import { z } from "zod";

export const responsesSchema = z
  .object({
    // 30 days, as OpenAI keeps them. A conversation that continues extends its earlier turns with it.
    retention_seconds: z.number().int().positive().default(30 * 86_400),
    // How often each ledger replica deletes expired ones (reads never return them meanwhile).
    purge_interval_seconds: z.number().int().positive().default(3_600),
  })
  .strict();
export type ResponsesConfig = z.infer<typeof responsesSchema>;
