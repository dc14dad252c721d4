-- Named queries of rewards.housekeeping.repository, loaded once and called by name.

-- name: job_try_lock
-- Only one process runs a periodic job at a time; the others skip that round.
SELECT pg_try_advisory_lock($1::bigint);

-- name: job_unlock
SELECT pg_advisory_unlock($1::bigint);
