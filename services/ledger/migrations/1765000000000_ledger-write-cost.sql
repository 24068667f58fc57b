-- Up Migration
-- The ledger's write path costs per request, and on the embedded PGlite (WASM) that cost is a fifth of the
-- gateway's CPU. What each write paid for and nothing used:
--  - calls → requests foreign key: a lookup plus a row lock on the request for every call. Both writers
--    already guarantee it: LedgerWriter inserts a request's calls in the same statement, only for requests
--    that statement inserted, and ShadowCallWriter inserts only WHERE EXISTS the request. Requests are never
--    deleted.
--  - requests (key_id, completed_at) and the partial (completed_at) WHERE unpriced: no query reads requests by
--    key or filters on unpriced (per-key spend comes from spend_daily; raw reads go by completed_at, with or
--    without tenant_id, which keep their indexes).
ALTER TABLE calls DROP CONSTRAINT calls_request_id_fkey;
DROP INDEX requests_key_completed_idx;
DROP INDEX requests_unpriced_idx;

-- Down Migration
CREATE INDEX requests_unpriced_idx ON requests (completed_at) WHERE unpriced;
CREATE INDEX requests_key_completed_idx ON requests (key_id, completed_at);
ALTER TABLE calls ADD CONSTRAINT calls_request_id_fkey FOREIGN KEY (request_id) REFERENCES requests(request_id);
