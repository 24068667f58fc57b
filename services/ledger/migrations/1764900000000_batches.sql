-- Up Migration
-- The Batches API's durable state (docs/batches.md). seq orders listings (newest first) and their
-- cursors; ids are random. JSON bodies are text: stored and returned whole, never queried.
CREATE TABLE batch_files (
  seq         bigserial UNIQUE,
  id          text PRIMARY KEY,
  tenant_id   text NOT NULL,
  filename    text NOT NULL,
  purpose     text NOT NULL,
  bytes       bigint NOT NULL,
  created_at  bigint NOT NULL,
  content     bytea NOT NULL,
  deleted     boolean NOT NULL DEFAULT false
);
CREATE INDEX batch_files_tenant_idx ON batch_files (tenant_id, seq);

CREATE TABLE batch_jobs (
  seq               bigserial UNIQUE,
  id                text PRIMARY KEY,
  tenant_id         text NOT NULL,
  key_id            text NOT NULL DEFAULT '',
  input_file_id     text NOT NULL,
  endpoint          text NOT NULL,
  completion_window text NOT NULL,
  status            text NOT NULL,
  output_file_id    text NOT NULL DEFAULT '',
  error_file_id     text NOT NULL DEFAULT '',
  created_at        bigint NOT NULL,
  in_progress_at    bigint NOT NULL DEFAULT 0,
  finalizing_at     bigint NOT NULL DEFAULT 0,
  completed_at      bigint NOT NULL DEFAULT 0,
  failed_at         bigint NOT NULL DEFAULT 0,
  expired_at        bigint NOT NULL DEFAULT 0,
  cancelling_at     bigint NOT NULL DEFAULT 0,
  cancelled_at      bigint NOT NULL DEFAULT 0,
  expires_at        bigint NOT NULL,
  metadata_json     text NOT NULL DEFAULT '',
  errors_json       text NOT NULL DEFAULT '',
  reserved_usd      text NOT NULL DEFAULT ''
);
CREATE INDEX batch_jobs_tenant_idx ON batch_jobs (tenant_id, seq);
CREATE INDEX batch_jobs_active_idx ON batch_jobs (status) WHERE status IN ('validating', 'in_progress', 'finalizing', 'cancelling');

CREATE TABLE batch_lines (
  batch_id        text NOT NULL REFERENCES batch_jobs (id) ON DELETE CASCADE,
  idx             integer NOT NULL,
  custom_id       text NOT NULL,
  body_json       text NOT NULL,
  requested_model text NOT NULL DEFAULT '',
  state           text NOT NULL DEFAULT 'pending',
  model           text NOT NULL DEFAULT '',
  provider        text NOT NULL DEFAULT '',
  sub_batch_key   text NOT NULL DEFAULT '',
  category        text NOT NULL DEFAULT '',
  tier            integer NOT NULL DEFAULT 0,
  result_json     text NOT NULL DEFAULT '',
  status_code     integer NOT NULL DEFAULT 0,
  error_code      text NOT NULL DEFAULT '',
  cost_usd        text NOT NULL DEFAULT '',
  cached          boolean NOT NULL DEFAULT false,
  PRIMARY KEY (batch_id, idx)
);

CREATE TABLE batch_sub_batches (
  batch_id          text NOT NULL REFERENCES batch_jobs (id) ON DELETE CASCADE,
  key               text NOT NULL,
  model             text NOT NULL,
  provider          text NOT NULL DEFAULT '',
  state             text NOT NULL,
  provider_batch_id text NOT NULL DEFAULT '',
  PRIMARY KEY (batch_id, key)
);

CREATE TABLE leases (
  name        text PRIMARY KEY,
  holder      text NOT NULL,
  expires_at  timestamptz NOT NULL
);

-- Down Migration
DROP TABLE leases;
DROP TABLE batch_sub_batches;
DROP TABLE batch_lines;
DROP TABLE batch_jobs;
DROP TABLE batch_files;
