-- Up Migration
-- Versioned routing policy: each applied set of overrides is kept; one version is live (none = the
-- configured overrides). Every router replica polls the live row and reloads without a restart.
CREATE TABLE routing_policy_versions (
  version     bigserial PRIMARY KEY,
  overrides   jsonb NOT NULL,
  reason      text NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE routing_policy_live (
  id          integer PRIMARY KEY CHECK (id = 1),
  version     bigint NOT NULL,
  reason      text NOT NULL DEFAULT '',
  changed_at  timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE routing_policy_live;
DROP TABLE routing_policy_versions;
