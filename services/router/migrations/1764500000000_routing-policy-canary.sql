-- Up Migration
-- A policy version on trial: it routes `share` of the sessions (sticky by tenant and session) while
-- the live version keeps the rest, until it is promoted or stopped. At most one canary at a time.
CREATE TABLE routing_policy_canary (
  id          integer PRIMARY KEY CHECK (id = 1),
  version     bigint NOT NULL REFERENCES routing_policy_versions (version),
  share       double precision NOT NULL CHECK (share > 0 AND share <= 1),
  reason      text NOT NULL DEFAULT '',
  started_at  timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE routing_policy_canary;
