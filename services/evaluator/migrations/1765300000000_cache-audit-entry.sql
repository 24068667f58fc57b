-- Up Migration
-- The cached entry a cache audit's hit came from (NULL for other shadow tests and older audits): a
-- refuted hit bars that entry below its similarity (GetCacheQuality's refuted_entries).
ALTER TABLE shadow_results ADD COLUMN cache_entry text;

-- Down Migration
ALTER TABLE shadow_results DROP COLUMN cache_entry;
