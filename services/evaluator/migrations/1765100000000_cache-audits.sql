-- Up Migration
-- direction 'cache': an audit of a semantic cache hit (the cached answer judged against a fresh answer of
-- the model that wrote it). Its similarity is kept beside the verdict: the wrong-hit rate by similarity
-- is what a threshold for the cache would be chosen from.
ALTER TABLE shadow_results ADD COLUMN cache_similarity double precision;

-- Down Migration
ALTER TABLE shadow_results DROP COLUMN cache_similarity;
