-- Up Migration
-- A cache audit's baseline: the cached answer judged against a fresh answer to its own question (NULL
-- when no baseline ran). How often that says "wrong" is the judge's floor, not the cache's doing.
ALTER TABLE shadow_results ADD COLUMN cache_baseline_ok boolean;

-- Down Migration
ALTER TABLE shadow_results DROP COLUMN cache_baseline_ok;
