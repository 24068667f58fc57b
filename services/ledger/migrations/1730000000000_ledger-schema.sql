-- Up Migration
-- Money is NUMERIC(30,12): exact, and every real price per token fits at 12 decimals.

CREATE TABLE tenants (
  id          text PRIMARY KEY,
  name        text NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
  id          text PRIMARY KEY,
  tenant_id   text NOT NULL REFERENCES tenants(id),
  key_hash    text NOT NULL UNIQUE,          -- hex sha256 of the raw key; the key itself is never stored
  prefix      text NOT NULL,                 -- first characters, for display
  name        text NOT NULL DEFAULT '',
  admin       boolean NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);
CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id);

-- One row per client request; request_id is the idempotency key of the ledger.
CREATE TABLE requests (
  request_id            text PRIMARY KEY,
  tenant_id             text NOT NULL,
  key_id                text NOT NULL DEFAULT '',
  trace_id              text NOT NULL DEFAULT '',
  received_at           timestamptz,
  completed_at          timestamptz NOT NULL,
  requested_model       text NOT NULL DEFAULT '',
  category              text NOT NULL DEFAULT '',
  tier                  text NOT NULL DEFAULT 'unspecified',
  confidence            double precision NOT NULL DEFAULT 0,
  model                 text NOT NULL DEFAULT '',
  provider              text NOT NULL DEFAULT '',
  -- billed usage: sum over the request's calls except shadow calls (kinds are disjoint)
  input_tokens          bigint NOT NULL DEFAULT 0,
  cached_input_tokens   bigint NOT NULL DEFAULT 0,
  cache_write_5m_tokens bigint NOT NULL DEFAULT 0,
  cache_write_1h_tokens bigint NOT NULL DEFAULT 0,
  output_tokens         bigint NOT NULL DEFAULT 0,
  reasoning_tokens      bigint NOT NULL DEFAULT 0,
  cost_usd              numeric(30,12) NOT NULL,
  baseline_model        text NOT NULL DEFAULT '',
  baseline_usd          numeric(30,12) NOT NULL,
  savings_usd           numeric(30,12) NOT NULL,
  cache_savings_usd     numeric(30,12) NOT NULL DEFAULT 0,
  routing_savings_usd   numeric(30,12) NOT NULL DEFAULT 0,
  cascade_savings_usd   numeric(30,12) NOT NULL DEFAULT 0,
  batch_savings_usd     numeric(30,12) NOT NULL DEFAULT 0,
  cache_outcome         text NOT NULL DEFAULT '',
  cascaded              boolean NOT NULL DEFAULT false,
  escalated             boolean NOT NULL DEFAULT false,
  stream                boolean NOT NULL DEFAULT false,
  batch                 boolean NOT NULL DEFAULT false,
  latency_ms            bigint NOT NULL DEFAULT 0,
  overhead_ms           double precision NOT NULL DEFAULT 0,
  http_status           integer NOT NULL DEFAULT 0,
  error_code            text NOT NULL DEFAULT '',
  unpriced              boolean NOT NULL DEFAULT false,
  usage_estimated       boolean NOT NULL DEFAULT false,
  recorded_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX requests_completed_idx ON requests (completed_at);
CREATE INDEX requests_tenant_completed_idx ON requests (tenant_id, completed_at);
CREATE INDEX requests_key_completed_idx ON requests (key_id, completed_at);
CREATE INDEX requests_unpriced_idx ON requests (completed_at) WHERE unpriced;

-- One row per provider call. Shadow calls are recorded but not billed to the request.
CREATE TABLE calls (
  id                    bigserial PRIMARY KEY,
  request_id            text NOT NULL REFERENCES requests(request_id),
  call_id               text NOT NULL DEFAULT '',
  kind                  text NOT NULL CHECK (kind IN ('primary','retry','fallback','cascade_first','escalation','shadow','batch')),
  billed                boolean NOT NULL,
  model                 text NOT NULL DEFAULT '',
  provider              text NOT NULL DEFAULT '',
  status                text NOT NULL DEFAULT '',
  error_code            text NOT NULL DEFAULT '',
  started_at            timestamptz,
  latency_ms            bigint NOT NULL DEFAULT 0,
  input_tokens          bigint NOT NULL DEFAULT 0,
  cached_input_tokens   bigint NOT NULL DEFAULT 0,
  cache_write_5m_tokens bigint NOT NULL DEFAULT 0,
  cache_write_1h_tokens bigint NOT NULL DEFAULT 0,
  output_tokens         bigint NOT NULL DEFAULT 0,
  reasoning_tokens      bigint NOT NULL DEFAULT 0,
  usage_estimated       boolean NOT NULL DEFAULT false,
  cost_usd              numeric(30,12),          -- NULL when unpriced: unknown, never 0
  unpriced              boolean NOT NULL DEFAULT false
);
CREATE INDEX calls_request_idx ON calls (request_id);

-- key_id '' is the tenant-wide scope.
CREATE TABLE budgets (
  id              bigserial PRIMARY KEY,
  tenant_id       text NOT NULL,
  key_id          text NOT NULL DEFAULT '',
  period          text NOT NULL CHECK (period IN ('day','month')),
  soft_limit_usd  numeric(30,12),
  hard_limit_usd  numeric(30,12),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, key_id, period)
);

-- Daily rollup maintained in the writer's transaction (only for newly inserted requests).
CREATE TABLE spend_daily (
  day                   date NOT NULL,
  tenant_id             text NOT NULL,
  key_id                text NOT NULL,
  model                 text NOT NULL,
  tier                  text NOT NULL,
  category              text NOT NULL,
  requests              bigint NOT NULL,
  unpriced_requests     bigint NOT NULL,
  input_tokens          bigint NOT NULL,
  cached_input_tokens   bigint NOT NULL,
  cache_write_tokens    bigint NOT NULL,
  output_tokens         bigint NOT NULL,
  cost_usd              numeric(30,12) NOT NULL,
  baseline_usd          numeric(30,12) NOT NULL,
  savings_usd           numeric(30,12) NOT NULL,
  cache_savings_usd     numeric(30,12) NOT NULL,
  routing_savings_usd   numeric(30,12) NOT NULL,
  cascade_savings_usd   numeric(30,12) NOT NULL,
  batch_savings_usd     numeric(30,12) NOT NULL,
  PRIMARY KEY (day, tenant_id, key_id, model, tier, category)
);
CREATE INDEX spend_daily_tenant_day_idx ON spend_daily (tenant_id, day);

-- Down Migration
DROP TABLE spend_daily;
DROP TABLE budgets;
DROP TABLE calls;
DROP TABLE requests;
DROP TABLE api_keys;
DROP TABLE tenants;
