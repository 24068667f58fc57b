// OpenTelemetry GenAI semantic-convention metrics in their Prometheus form (dots → underscores, the
// unit as a suffix: `gen_ai.server.request.duration` [s] → `gen_ai_server_request_duration_seconds`,
// `gen_ai.client.token.usage` [{token}] → `gen_ai_client_token_usage`), with the buckets the
// conventions recommend, so dashboards built for other GenAI servers read ours unchanged.
import { Histogram, type Registry } from "prom-client";

/** Attribute names of the conventions, as Prometheus labels. */
export const GENAI_LABELS = ["gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model", "gen_ai_response_model"] as const;
type GenAiLabel = (typeof GENAI_LABELS)[number];

const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
const DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
const TPOT_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5];

export interface GenAiServerMetrics {
  requestDuration: Histogram<GenAiLabel | "error_type">;
  timeToFirstToken: Histogram<GenAiLabel>;
  timePerOutputToken: Histogram<GenAiLabel>;
}

/** The gateway as a GenAI model server, seen by its clients (recorded at the edge). */
export function genAiServerMetrics(registry: Registry): GenAiServerMetrics {
  return {
    requestDuration: new Histogram({
      name: "gen_ai_server_request_duration_seconds",
      help: "gen_ai.server.request.duration: time to last byte of a chat completion, per request",
      labelNames: [...GENAI_LABELS, "error_type"],
      buckets: DURATION_BUCKETS,
      registers: [registry],
    }),
    timeToFirstToken: new Histogram({
      name: "gen_ai_server_time_to_first_token_seconds",
      help: "gen_ai.server.time_to_first_token: time to the first token of a successful streamed answer",
      labelNames: [...GENAI_LABELS],
      buckets: TTFT_BUCKETS,
      registers: [registry],
    }),
    timePerOutputToken: new Histogram({
      name: "gen_ai_server_time_per_output_token_seconds",
      help: "gen_ai.server.time_per_output_token: time per output token after the first, successful streamed answers",
      labelNames: [...GENAI_LABELS],
      buckets: TPOT_BUCKETS,
      registers: [registry],
    }),
  };
}

export type GenAiTokenUsage = Histogram<GenAiLabel | "gen_ai_token_type">;

/** gen_ai.client.token.usage: the gateway as a client of providers (recorded by the executor, per call). */
export function genAiClientTokenUsage(registry: Registry): GenAiTokenUsage {
  const existing = registry.getSingleMetric("gen_ai_client_token_usage");
  if (existing) return existing as GenAiTokenUsage;
  return new Histogram({
    name: "gen_ai_client_token_usage",
    help: "gen_ai.client.token.usage: input and output tokens per provider call (billable counts)",
    labelNames: [...GENAI_LABELS, "gen_ai_token_type"],
    buckets: TOKEN_BUCKETS,
    registers: [registry],
  });
}
