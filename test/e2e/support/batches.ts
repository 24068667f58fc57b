// Batches API test helpers: input lines, output parsing, status polling, a fast-polling config.
import type OpenAI from "openai";
import { vi } from "vitest";
import { testConfig } from "../harness.ts";

export function batchLine(customId: string, model: string, text: string): string {
  return JSON.stringify({ custom_id: customId, method: "POST", url: "/v1/chat/completions", body: { model, messages: [{ role: "user", content: text }], max_tokens: 50 } });
}

export interface OutputLine {
  custom_id: string;
  response: { status_code: number; body: { model: string; usage: { prompt_tokens: number; completion_tokens: number; prompt_tokens_details?: { cached_tokens?: number } } } } | null;
  error: { code: string; message: string } | null;
}

export const jsonl = (text: string): OutputLine[] => text.split("\n").filter((l) => l.trim().length > 0).map((l) => JSON.parse(l) as OutputLine);

export async function waitForStatus(client: OpenAI, id: string, done: (s: string) => boolean, timeout = 20_000): Promise<OpenAI.Batch> {
  return vi.waitFor(async () => {
    const b = await client.batches.retrieve(id);
    if (!done(b.status)) throw new Error(`batch still ${b.status}`);
    return b;
  }, { timeout, interval: 100 });
}

/** Fast polling for tests; the simulator holds each provider batch `delayMs` before it completes. */
export const batchTestConfig = () =>
  testConfig((c) => {
    c.batches.poll_min_ms = 50;
    c.batches.poll_max_ms = 200;
    c.batches.lease_ttl_ms = 3_000;
  });

