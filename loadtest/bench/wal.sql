-- Named queries of loadtest.wal: where an award's WAL and rows go.

-- name: wal_setup
CREATE EXTENSION IF NOT EXISTS pg_walinspect;

-- name: wal_snapshot
SELECT pg_current_wal_lsn()::text AS lsn;

-- name: wal_rows
-- Rows written to the WAL between two positions: heap records that insert, update or
-- delete one row (a table's own writes, not its indexes'; unlogged tables write none).
SELECT count(*)
FROM pg_get_wal_records_info($1::text::pg_lsn, $2::text::pg_lsn)
WHERE resource_manager = 'Heap' AND record_type ~ '^(INSERT|UPDATE|HOT_UPDATE|DELETE)';

-- name: wal_between
SELECT pg_wal_lsn_diff($2::text::pg_lsn, $1::text::pg_lsn)::bigint;

-- name: wal_by_relation
-- The WAL between two positions by the relation (table or index) its records changed, the
-- largest first: bytes of whole records (full-page images included) and of the images
-- alone. A record that touches several relations is counted once for each.
WITH blocks AS (
    SELECT b.start_lsn, b.relfilenode, b.reltablespace,
           max(b.record_length) AS record_length, sum(b.block_fpi_length) AS fpi_length
    FROM pg_get_wal_block_info($1::text::pg_lsn, $2::text::pg_lsn, false) AS b
    WHERE b.relfilenode <> 0
    GROUP BY 1, 2, 3
)
SELECT coalesce(pg_filenode_relation(CASE WHEN b.reltablespace = 1663 THEN 0
                                           ELSE b.reltablespace END, b.relfilenode)::text,
                'filenode ' || b.relfilenode) AS relation,
       sum(b.record_length)::bigint AS bytes,
       sum(b.fpi_length)::bigint AS fpi_bytes,
       count(*) AS records
FROM blocks b
GROUP BY 1
ORDER BY 2 DESC
LIMIT $3::int;

-- name: wal_by_record_type
-- The same WAL by kind of record (insert, update, full-page image for hint bits, …).
SELECT s."resource_manager/record_type" AS kind, s.count AS records,
       s.record_size + s.fpi_size AS bytes, s.fpi_size AS fpi_bytes
FROM pg_get_wal_stats($1::text::pg_lsn, $2::text::pg_lsn, true) AS s
WHERE s.count > 0
ORDER BY 3 DESC
LIMIT $3::int;
