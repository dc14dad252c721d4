-- Named queries of loadtest.profile.

-- name: profile_preload
ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements';

-- name: profile_extension
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;

-- name: profile_reset
SELECT pg_stat_statements_reset();

-- name: profile_statements
-- The statements that took most of the server's time since the reset (planning included).
SELECT query, calls, (total_exec_time + total_plan_time) AS total_ms,
       (total_exec_time + total_plan_time) / greatest(calls, 1) AS mean_ms
FROM pg_stat_statements
WHERE query NOT LIKE '%pg_stat_statements%'
ORDER BY total_exec_time + total_plan_time DESC
LIMIT $1::int;

-- name: profile_total
SELECT coalesce(sum(total_exec_time + total_plan_time), 0)::float8
FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%';
