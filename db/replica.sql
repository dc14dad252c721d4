-- The queries of db.replica: where the primary's WAL stands, and how far a standby has
-- replayed it.

-- name: database_wal_position
SELECT pg_current_wal_lsn()::text;

-- name: database_replayed_past
-- NULL when the server is not a standby (it was promoted, or it is a primary).
SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() >= $1::text::pg_lsn END;

-- name: database_standby_state
SELECT pg_is_in_recovery() AS standby,
       pg_last_wal_replay_lsn()::text AS replayed,
       CASE
           WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
           ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())
       END::float8 AS lag_seconds;

-- name: database_wal_distance
SELECT greatest(pg_wal_lsn_diff($1::text::pg_lsn, $2::text::pg_lsn), 0)::bigint;
