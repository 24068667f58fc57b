// PGlite runs PostgreSQL in single-user mode, where nothing checkpoints on WAL volume: max_wal_size only
// signals the checkpointer process, which does not exist there. So the WAL grows forever, ~0.9 KB per
// ledger request (0.9 GB per million), and an in-memory database holds all of it in memory (measured:
// 160 MB of segments after 160,000 requests with max_wal_size=64MB; one CHECKPOINT brought it back to the
// recycled minimum, 6.6 ms of CPU). So the PGlite worker (pglite-worker.ts) runs CHECKPOINT once a
// segment's worth of WAL has accumulated, and PostgreSQL recycles the old segments instead of zero-filling
// new ones. These are its settings.

/** One WAL segment: checkpoint once this much WAL has been written since the last checkpoint. */
export const CHECKPOINT_WAL_BYTES = 16 * 1024 * 1024;

/** For an in-memory database (1 MB segments, PGLITE_MEMORY_PROFILE): its WAL is resident, so checkpoint sooner. */
export const MEMORY_CHECKPOINT_WAL_BYTES = 4 * 1024 * 1024;

/** How often the WAL volume is checked. */
export const CHECKPOINT_INTERVAL_MS = 10_000;

/** WAL written since the last checkpoint. */
export const WAL_SINCE_CHECKPOINT = `SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), redo_lsn)::float8 AS behind FROM pg_control_checkpoint()`;
