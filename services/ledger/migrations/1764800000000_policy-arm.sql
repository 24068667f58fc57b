-- Up Migration
-- The routing policy version that decided each request, and whether it was a canary's arm: a canary's
-- cost is read beside the live version's from the same table.
ALTER TABLE requests ADD COLUMN policy_version bigint NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN policy_canary boolean NOT NULL DEFAULT false;

-- Down Migration
ALTER TABLE requests DROP COLUMN policy_canary;
ALTER TABLE requests DROP COLUMN policy_version;
