-- Up Migration
-- direction 'down': a cheaper candidate judged against the served answer (downgrade evidence);
-- 'up': a canary's cheaper served answer judged against the live version's model (canary quality).
-- policy_*: the routing policy arm that served the request. input: the prompt as the classifier
-- sees it (roles and text), kept so shadow results can train the learned router; NULL when the
-- config says not to keep it.
ALTER TABLE shadow_results ADD COLUMN direction text NOT NULL DEFAULT 'down';
ALTER TABLE shadow_results ADD COLUMN policy_version bigint NOT NULL DEFAULT 0;
ALTER TABLE shadow_results ADD COLUMN policy_canary boolean NOT NULL DEFAULT false;
ALTER TABLE shadow_results ADD COLUMN input jsonb;

-- Down Migration
ALTER TABLE shadow_results DROP COLUMN input;
ALTER TABLE shadow_results DROP COLUMN policy_canary;
ALTER TABLE shadow_results DROP COLUMN policy_version;
ALTER TABLE shadow_results DROP COLUMN direction;
