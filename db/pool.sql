-- The maintenance queries of db.pool.

-- name: database_exists
SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1::text);
