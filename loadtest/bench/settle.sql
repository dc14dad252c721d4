-- name: settle
-- What autovacuum does in time on a running service: fresh statistics for the planner and
-- the visibility map. Run after a scenario's data is loaded, before it is measured.
VACUUM ANALYZE;
