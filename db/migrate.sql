-- The migration runner's own bookkeeping (db.migrate).

-- name: migrations_create_history
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- name: migrations_history_exists
SELECT to_regclass('schema_migrations') IS NOT NULL;

-- name: migrations_applied
SELECT version, checksum FROM schema_migrations;

-- name: migrations_record
INSERT INTO schema_migrations (version, name, checksum) VALUES ($1::int, $2::text, $3::text);

-- name: migrations_lock
SELECT pg_advisory_lock($1::bigint);

-- name: migrations_unlock
SELECT pg_advisory_unlock($1::bigint);
