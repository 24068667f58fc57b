// Bounds on the work one request can ask of the edge (issue #11): each exceeded limit is a 400 (414 for
// the URL) naming the limit, checked before anything recursive or CPU-heavy looks at the input.
import { z } from "zod";

export const limitsSchema = z
  .object({
    // Nesting of a JSON body ({ and [), checked on the raw text before JSON.parse: deep enough for tool
    // schemas, far below what overflows a recursive walk (~5,000).
    json_depth: z.number().int().min(2).max(1_000).default(64),
    // Object keys in a JSON body, counted on the raw text: each is copied and checked several times, so
    // 250,000 of them held the event loop ~0.5 s per request. A 2,048-message conversation has ~10,000.
    json_keys: z.number().int().positive().default(50_000),
    // Characters in any one string of a JSON body (a prompt, a name); the body limit caps the sum.
    string_chars: z.number().int().positive().default(1_048_576),
    // Entries of `messages` in a chat request (OpenAI's own bound is 2048).
    messages: z.number().int().positive().default(2_048),
    // Entries of `tools` in a chat request (OpenAI allows 128 functions).
    tools: z.number().int().positive().default(128),
    // Characters of the request line's URL (path and query): longer is a 414 (Node refuses past ~16 KB of headers with a 431).
    url_chars: z.number().int().positive().default(8_192),
  })
  .strict();

export type Limits = z.infer<typeof limitsSchema>;
