// Public contract of the classifier domain: what the gRPC service (and the router) consume.
import type { TierName } from "#libs/config/closed-sets.ts";

export const CATEGORIES = [
  "chat",
  "qa",
  "summarization",
  "extraction",
  "classification",
  "translation",
  "code",
  "math",
  "reasoning",
  "creative",
  "agentic",
] as const;
export type Category = (typeof CATEGORIES)[number];

export type Role = "system" | "user" | "assistant" | "tool" | "developer";

export interface ClassifyInput {
  messages: { role: Role; content: string }[];
  hasTools: boolean;
  jsonMode: boolean;
  maxTokens?: number;
}

export interface Features {
  chars: number;
  approxTokens: number;
  /** Number of user turns in the conversation. */
  turns: number;
  hasCode: boolean;
  hasMath: boolean;
  reasoningMarkers: number;
  hasTools: boolean;
  jsonMode: boolean;
  /** ISO-ish guess, e.g. "en", "zh", "ru"; "und" when unknown. */
  language: string;
  questionCount: number;
  /** Characters of the last user message (what the model must answer now). */
  lastUserChars: number;
  /** Words in the last user message. */
  words: number;
  /** Count of numeric literals. */
  numberCount: number;
  /** Options like "A. ..." on their own lines (multiple-choice exam style). */
  multipleChoice: boolean;
  /** Output constraints ("exactly", "at least N words", "format", "must"...). */
  constraintMarkers: number;
  /** Markers that the reply depends on earlier turns ("your previous answer", "rewrite"...). */
  followUp: boolean;
  hasSystem: boolean;
  maxTokens: number;
}

export interface Classification {
  tier: TierName;
  category: Category;
  /** 0..1, how sure the classifier is of the tier decision. */
  confidence: number;
  /** 0..1, P(cheap model does NOT suffice). */
  strongProbability: number;
  features: Features;
  reasons: string[];
  /** "rules@1" | "learned@<version>" */
  classifier: string;
}

export interface Classifier {
  readonly name: string;
  classify(input: ClassifyInput): Classification;
}

/** Thresholds on strongProbability that map to tiers (non-tool requests). */
export interface TierThresholds {
  /** p >= high → HIGH (the strong model). */
  high: number;
  /** medium <= p < high → MEDIUM. */
  medium: number;
}
