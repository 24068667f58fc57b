// The router's domain contract: what a decision needs and what it says.
import type { BudgetState, Strategy } from "#libs/config/closed-sets.ts";
import type { TierName } from "#libs/rpc/tier.ts";

export type BreakerState = "closed" | "open" | "half_open";

export interface RouteInput {
  requestedModel: string;
  tier: TierName;
  category: string;
  inputTokens: number;
  maxTokens: number;
  capabilities: readonly string[];
  sessionId: string;
  /** The caller's tenant ("" when unknown): some tenants are never shadow-tested. */
  tenantId?: string;
  /** Places a request without a session in a canary arm. */
  requestId?: string;
  strategy: Strategy | "";
  budgetState: BudgetState | "";
  stream: boolean;
}

export interface ModelView {
  id: string;
  provider: string;
  upstream: string;
  contextWindow: number;
  maxOutputTokens: number;
  capabilities: readonly string[];
  latencyMs: number;
  quality: number;
  /** Blended USD per 1M tokens used to order candidates by cost; undefined = unpriced. */
  blendedPrice: number | undefined;
}

export interface RouteDecision {
  candidates: ModelView[];
  tier: TierName;
  cascade: boolean;
  escalation: ModelView[];
  reasons: string[];
  referenceModel: string;
  /** Sampled for a shadow test: cheaper models to replay the request on (else empty). */
  shadow: ModelView[];
  /** The shadow candidate is the stronger model the live policy would have used (a canary's check). */
  shadowUpward?: boolean;
  /** The policy version whose overrides decided, and whether it was the canary arm. */
  policy?: { version: number; canary: boolean };
  /** Set when no model can take the request: an OpenAI error code the client gets as a 400. */
  refusal?: { code: "context_length_exceeded" | "unsupported_capability" | "no_capable_model" | "model_not_found" | "invalid_value"; param: string; message: string };
}
