-- Up Migration
-- Every shadow test's verdict, with every scorer's own verdict: the evidence the nightly analysis
-- turns into routing decisions. One row per (request, candidate); redeliveries are no-ops.
CREATE TABLE shadow_results (
  request_id          text NOT NULL,
  candidate_model     text NOT NULL,
  tenant_id           text NOT NULL,
  category            text NOT NULL,
  tier                text NOT NULL,
  served_model        text NOT NULL,
  ok                  boolean NOT NULL,
  score               double precision NOT NULL,
  failures            jsonb NOT NULL DEFAULT '[]',
  verdicts            jsonb NOT NULL DEFAULT '[]',
  candidate_cost_usd  numeric(30,12),
  created_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (request_id, candidate_model)
);
CREATE INDEX shadow_results_cell_idx ON shadow_results (category, tier, served_model, candidate_model, created_at);
CREATE INDEX shadow_results_tenant_idx ON shadow_results (tenant_id, created_at);

-- Shadow spend per UTC day: reserved while a replay runs, spent once it is recorded. The cap is
-- checked and the reservation taken in one UPDATE, so it holds across evaluator replicas.
CREATE TABLE shadow_spend_daily (
  day           date PRIMARY KEY,
  spent_usd     numeric(30,12) NOT NULL DEFAULT 0,
  reserved_usd  numeric(30,12) NOT NULL DEFAULT 0
);

-- Down Migration
DROP TABLE shadow_spend_daily;
DROP TABLE shadow_results;
