import { z } from "zod";
import { DETECTORS, detect, type Detector } from "./detectors.ts";

/**
 * Which requests the cache must not see: per tenant, built-in detectors and the tenant's own regexes
 * (case-insensitive, Unicode). A tenant's entry replaces the default detectors when it names them and
 * adds its patterns to the default ones. Checked on every message of the request, not just the last:
 * earlier turns are part of the key and of the stored entry.
 */
const regexSchema = z.string().refine(
  (s) => {
    try {
      new RegExp(s, "iu");
      return true;
    } catch {
      return false;
    }
  },
  { message: "not a valid regular expression" },
);

const ruleSchema = z
  .object({
    detectors: z.array(z.enum(DETECTORS)).optional(),
    patterns: z.array(regexSchema).default([]),
  })
  .strict();

export const privacyConfigSchema = z
  .object({
    /** Detectors for every tenant that does not name its own (privacy by default: all of them). */
    detectors: z.array(z.enum(DETECTORS)).default([...DETECTORS]),
    /** Regexes for every tenant. */
    patterns: z.array(regexSchema).default([]),
    tenants: z.record(z.string(), ruleSchema).default({}),
  })
  .strict();

export type PrivacyConfig = z.infer<typeof privacyConfigSchema>;

/** Why a request was kept out of the cache: a detector's name or `pattern:<index>`. */
export type ExclusionReason = Detector | `pattern:${number}` | "too_long_to_scan";

/**
 * Prompts longer than this (characters, all messages) are kept out of the cache unscanned: the detectors
 * and the configured patterns stay within a bounded time per request, and what is not scanned is not stored.
 */
export const SCAN_CHARS = 32_768;

interface Compiled {
  detectors: readonly Detector[];
  patterns: RegExp[];
}

export class ExclusionRules {
  private readonly defaults: Compiled;
  private readonly perTenant = new Map<string, Compiled>();

  constructor(config: PrivacyConfig) {
    const compile = (ps: string[]): RegExp[] => ps.map((p) => new RegExp(p, "iu"));
    this.defaults = { detectors: config.detectors, patterns: compile(config.patterns) };
    for (const [tenant, rule] of Object.entries(config.tenants)) {
      this.perTenant.set(tenant, { detectors: rule.detectors ?? config.detectors, patterns: [...this.defaults.patterns, ...compile(rule.patterns)] });
    }
  }

  /** The first rule `texts` trip for `tenant`, or undefined when the request may be cached. */
  check(tenant: string, texts: readonly string[]): ExclusionReason | undefined {
    const rules = this.perTenant.get(tenant) ?? this.defaults;
    let chars = 0;
    for (const text of texts) chars += text.length;
    if (chars > SCAN_CHARS && (rules.detectors.length > 0 || rules.patterns.length > 0)) return "too_long_to_scan";
    for (const text of texts) {
      const i = rules.patterns.findIndex((p) => p.test(text));
      if (i >= 0) return `pattern:${i}`;
      const d = detect(text, rules.detectors);
      if (d) return d;
    }
    return undefined;
  }
}
