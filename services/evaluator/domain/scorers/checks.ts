// "checks": the cheap, label-free checks of libs/quality/verify.ts on the candidate alone (empty,
// truncated, content filter, refusal, hedging, invalid JSON in JSON mode, bad tool calls, and for
// math requests wrong shown arithmetic and a final answer no shown step produced).
import { verifyAnswer, type VerifyOptions, type VerifyRequest } from "#libs/quality/verify.ts";
import { round3, wantsJson, type Scorer, type ScorerInput, type ScorerVerdict } from "./types.ts";

/** Categories treated as math (arithmetic checks on in "auto" mode). */
import { MATH_CATEGORY } from "#libs/quality/verify.ts";

export { MATH_CATEGORY };

export interface ChecksOptions {
  /**
   * Arithmetic checks (a shown "a op b = c" must hold; the marked final answer must be a shown
   * result): "auto" (default) = on for math categories, or always on / off.
   */
  math?: "auto" | boolean;
  /** Expected answer format for verify's format check (a preset name or RegExp), per input; default none. */
  expectFormat?: (input: ScorerInput) => VerifyRequest["expectFormat"] | undefined;
  /** Treat hedging ("I'm not sure") as a failure. Default true. */
  hedgingFails?: boolean;
}

export function checksScorer(options: ChecksOptions = {}): Scorer {
  const mode = options.math ?? "auto";
  return {
    name: "checks",
    async score(input: ScorerInput): Promise<ScorerVerdict> {
      const math = mode === "auto" ? MATH_CATEGORY.test(input.category ?? "") : mode;
      const expectFormat = options.expectFormat?.(input);
      const request: VerifyRequest = {
        jsonMode: wantsJson(input.request),
        hasTools: (input.request.tools?.length ?? 0) > 0,
        ...(expectFormat === undefined ? {} : { expectFormat }),
      };
      const verifyOptions: VerifyOptions = { arithmetic: math, derivedFinal: math, hedgingFails: options.hedgingFails ?? true };
      const v = verifyAnswer(
        {
          request,
          answer: {
            content: input.candidate,
            finishReason: input.candidateMeta?.finishReason ?? "stop",
            ...(input.candidateMeta?.toolCalls ? { toolCalls: input.candidateMeta.toolCalls } : {}),
          },
        },
        verifyOptions,
      );
      return v.ok ? { ok: true, score: round3(v.score) } : { ok: false, score: round3(v.score), detail: v.failures.join("; ") };
    },
  };
}
