-- Up Migration
-- Rate limits per tenant (key_id '') or key; NULL = no such limit. Read by ReserveBudget (cached,
-- versioned like budgets), so a change applies without a restart.
CREATE TABLE rate_limits (
  tenant_id            text NOT NULL,
  key_id               text NOT NULL DEFAULT '',
  requests_per_minute  bigint CHECK (requests_per_minute > 0),
  tokens_per_minute    bigint CHECK (tokens_per_minute > 0),
  requests_per_day     bigint CHECK (requests_per_day > 0),
  tokens_per_day       bigint CHECK (tokens_per_day > 0),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, key_id)
);

-- Every request the admission refused (rate limit or hard budget), for the operator: who, which
-- limit, when. Written in batches by the ledger that refused it.
CREATE TABLE admission_refusals (
  id           bigserial PRIMARY KEY,
  request_id   text NOT NULL,
  tenant_id    text NOT NULL,
  key_id       text NOT NULL,
  reason       text NOT NULL CHECK (reason IN ('rate_limit','budget')),
  limit_name   text NOT NULL,
  retry_after_ms bigint,
  refused_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX admission_refusals_tenant_idx ON admission_refusals (tenant_id, refused_at);

-- Down Migration
DROP TABLE admission_refusals;
DROP TABLE rate_limits;
