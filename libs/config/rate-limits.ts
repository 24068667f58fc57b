// Default rate limits (config `rate_limits`): what a tenant or a key gets when the admin API has set
// nothing for it. Absent = no limit; the shipped config sets none.
import { z } from "zod";

const limitValue = z.number().int().min(1).max(1_000_000_000_000);

export const rateLimitValuesSchema = z
  .object({
    requests_per_minute: limitValue.optional(),
    tokens_per_minute: limitValue.optional(),
    requests_per_day: limitValue.optional(),
    tokens_per_day: limitValue.optional(),
  })
  .strict();

export const rateLimitsSchema = z
  .object({
    /** Every tenant without limits of its own (PUT /v1/llmgw/tenants/{id}/limits). */
    tenant: rateLimitValuesSchema.default({}),
    /** Every key without limits of its own (PUT /v1/llmgw/keys/{id}/limits). */
    key: rateLimitValuesSchema.default({}),
  })
  .strict();

export type RateLimitDefaults = z.infer<typeof rateLimitsSchema>;
