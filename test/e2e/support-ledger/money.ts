// Independent money arithmetic for ledger end-to-end tests. Prices are typed here by hand from the
// providers' public price lists (NOT read from deploy/config/prices.yaml), as integers in micro-USD
// per 1M tokens, which is exactly pico-USD per token: tokens x rate is an exact pico-USD BigInt, and
// the ledger's NUMERIC(30,12) is pico-USD too, so expected and recorded money compare exactly.
import type OpenAI from "openai";

export interface Rates {
  input: bigint;
  cached: bigint;
  write5m: bigint;
  write1h: bigint;
  output: bigint;
  reasoning: bigint;
}

/** micro-USD per 1M tokens. Cache writes default to 1.25x (5m) and 2x (1h) input where a provider lists none. */
export const RATES: Readonly<Record<string, Rates>> = {
  "gpt-4o-mini": { input: 150_000n, cached: 75_000n, write5m: 187_500n, write1h: 300_000n, output: 600_000n, reasoning: 600_000n },
  "gpt-4o": { input: 2_500_000n, cached: 1_250_000n, write5m: 3_125_000n, write1h: 5_000_000n, output: 10_000_000n, reasoning: 10_000_000n },
  "o3-mini": { input: 1_100_000n, cached: 550_000n, write5m: 1_375_000n, write1h: 2_200_000n, output: 4_400_000n, reasoning: 4_400_000n },
  "claude-3-5-haiku-latest": { input: 800_000n, cached: 80_000n, write5m: 1_000_000n, write1h: 1_600_000n, output: 4_000_000n, reasoning: 4_000_000n },
  "claude-sonnet-4-5": { input: 3_000_000n, cached: 300_000n, write5m: 3_750_000n, write1h: 6_000_000n, output: 15_000_000n, reasoning: 15_000_000n },
};

/** Disjoint token counts (a token is in exactly one kind, except reasoning, a subset of output). */
export interface Tokens {
  input: number;
  cached: number;
  write5m: number;
  write1h: number;
  output: number;
  reasoning: number;
}

/**
 * The OpenAI-shaped usage a client sees → disjoint kinds. prompt_tokens includes cache reads and
 * writes; the gateway reports Anthropic writes as prompt_tokens_details.cache_write_tokens, whose
 * lifetime the client knows from the cache_control it sent.
 */
export function tokensFromUsage(u: OpenAI.CompletionUsage, writeTtl: "5m" | "1h" = "5m"): Tokens {
  const details: unknown = u.prompt_tokens_details;
  const cached = numField(details, "cached_tokens");
  const writes = numField(details, "cache_write_tokens");
  return {
    input: u.prompt_tokens - cached - writes,
    cached,
    write5m: writeTtl === "5m" ? writes : 0,
    write1h: writeTtl === "1h" ? writes : 0,
    output: u.completion_tokens,
    reasoning: numField(u.completion_tokens_details, "reasoning_tokens"),
  };
}

function numField(o: unknown, key: string): number {
  if (typeof o !== "object" || o === null) return 0;
  const v: unknown = (o as Record<string, unknown>)[key];
  return typeof v === "number" ? v : 0;
}

/** Exact cost in pico-USD. Reasoning tokens are billed once, at the reasoning rate. */
export function costPico(model: string, t: Tokens): bigint {
  const r = RATES[model];
  if (!r) throw new Error(`no hand-typed rate for ${model}`);
  const b = (n: number) => BigInt(n);
  return (
    b(t.input) * r.input +
    b(t.cached) * r.cached +
    b(t.write5m) * r.write5m +
    b(t.write1h) * r.write1h +
    b(t.output - t.reasoning) * r.output +
    b(t.reasoning) * r.reasoning
  );
}

/** A non-negative decimal string (NUMERIC from PostgreSQL) → pico-USD; throws on sub-pico digits. */
export function usdToPico(usd: string): bigint {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(usd.trim());
  if (!m) throw new Error(`not a decimal amount: ${usd}`);
  const frac = m[2] ?? "";
  if (frac.length > 12 && !/^0*$/.test(frac.slice(12))) throw new Error(`finer than a pico-dollar: ${usd}`);
  return BigInt(m[1] ?? "0") * 10n ** 12n + BigInt((frac.slice(0, 12) || "0").padEnd(12, "0"));
}

export function picoToUsd(p: bigint): string {
  const s = p.toString().padStart(13, "0");
  return `${s.slice(0, -12)}.${s.slice(-12)}`;
}

export const MICRO_IN_PICO = 1_000_000n;
