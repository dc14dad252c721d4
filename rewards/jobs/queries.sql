-- Named queries of rewards.jobs.repository, loaded once and called by name.

-- name: job_insert
INSERT INTO jobs (tenant_id, job_id, kind, params, created_by, progress_total)
VALUES ($1::text, $2::text, $3::text, $4::jsonb, $5::text, $6::bigint)
ON CONFLICT (tenant_id, job_id) DO NOTHING
RETURNING *;

-- name: job_get
SELECT * FROM jobs WHERE tenant_id = $1::text AND job_id = $2::text;

-- name: job_list
-- Newest first; the cursor is the last job's (created_at, job_id) of the previous page.
SELECT * FROM jobs
WHERE tenant_id = $1::text AND ($2::text IS NULL OR kind = $2::text)
  AND ($3::timestamptz IS NULL OR (created_at, job_id) < ($3::timestamptz, $4::text))
ORDER BY created_at DESC, job_id DESC LIMIT $5::int;

-- name: job_cancel
UPDATE jobs SET status = 'cancelled', finished_at = now(), lease_until = NULL
WHERE tenant_id = $1::text AND job_id = $2::text AND status IN ('queued', 'running')
RETURNING *;

-- name: job_take
-- The oldest job of these kinds that waits, or whose process stopped renewing its lease
-- (it died): taken by this worker, with a lease it renews while it works.
UPDATE jobs j
SET status = 'running', worker = $3::text, attempts = j.attempts + 1,
    lease_until = now() + make_interval(secs => $2::double precision),
    started_at = coalesce(j.started_at, now())
FROM (
    SELECT tenant_id, job_id FROM jobs
    WHERE kind = ANY($1::text[])
      AND (status = 'queued' OR (status = 'running' AND lease_until < now()))
      AND ($4::text IS NULL OR (tenant_id, job_id) = ($5::text, $4::text))
    ORDER BY created_at
    LIMIT 1
    FOR UPDATE SKIP LOCKED
) w
WHERE j.tenant_id = w.tenant_id AND j.job_id = w.job_id
RETURNING j.*;

-- name: job_progress
-- Renew the lease and note the progress; no row: the job was cancelled, or another worker
-- took it over.
UPDATE jobs
SET lease_until = now() + make_interval(secs => $4::double precision),
    progress_done = $5::bigint, progress_total = coalesce($6::bigint, progress_total),
    counts = coalesce($7::jsonb, counts), checkpoint = coalesce($8::jsonb, checkpoint)
WHERE tenant_id = $1::text AND job_id = $2::text AND worker = $3::text AND status = 'running'
RETURNING 1;

-- name: job_finish
UPDATE jobs
SET status = $4::text, finished_at = now(), lease_until = NULL, result = $5::bytea,
    counts = coalesce($6::jsonb, counts), error = $7::text,
    progress_done = coalesce($8::bigint, progress_done)
WHERE tenant_id = $1::text AND job_id = $2::text AND worker = $3::text AND status = 'running'
RETURNING 1;

-- name: job_release
-- A worker stopping (its process shutting down) hands the job back at once.
UPDATE jobs SET lease_until = now() - interval '1 second'
WHERE tenant_id = $1::text AND job_id = $2::text AND worker = $3::text AND status = 'running';

-- name: job_error_insert
INSERT INTO job_errors (tenant_id, job_id, line, item_id, problem)
SELECT $1::text, $2::text, e.line, e.item_id, e.problem
FROM unnest($3::bigint[], $4::text[], $5::text[]) AS e(line, item_id, problem)
ON CONFLICT (tenant_id, job_id, line) DO NOTHING;

-- name: job_errors_list
SELECT line, item_id, problem FROM job_errors
WHERE tenant_id = $1::text AND job_id = $2::text AND ($3::bigint IS NULL OR line > $3::bigint)
ORDER BY line LIMIT $4::int;

-- name: job_fence
-- The job, locked for one step of its work, if it is still this worker's: a step's writes
-- and its checkpoint commit together, or neither does.
SELECT 1 FROM jobs
WHERE tenant_id = $1::text AND job_id = $2::text AND worker = $3::text AND status = 'running'
FOR UPDATE;

-- name: job_lines_read
-- The uploaded lines after line $3 (and up to $5, if given), in order.
SELECT line, body FROM job_lines
WHERE tenant_id = $1::text AND job_id = $2::text AND line > $3::bigint
  AND ($5::bigint IS NULL OR line <= $5::bigint)
ORDER BY line LIMIT $4::int;

-- name: job_lines_drop
DELETE FROM job_lines WHERE tenant_id = $1::text AND job_id = $2::text;

-- name: job_total
UPDATE jobs SET progress_total = $3::bigint WHERE tenant_id = $1::text AND job_id = $2::text;

-- name: job_analyze_bulk
-- The planner's statistics of the tables bulk jobs grow, brought up to date: a table that
-- grew from nothing to millions of rows since autovacuum last looked would otherwise be
-- planned as empty (a nested loop over it, for every row of a chunk).
ANALYZE members, lots, transfers, member_imports, referrals, segment_members, grant_members,
    offer_members;

-- name: job_step_joins
-- A step writes thousands of rows at once, joined to rows it (or the step before) has just
-- written, which the planner's statistics do not know yet: it would take such a table for
-- one row and loop over it once for every row of the chunk. Hash joins cost the same when
-- the estimate is right and bound the cost when it is not.
SET LOCAL enable_nestloop = off;

-- name: job_claim_report
-- The job's progress so far, locked until this step commits (a step running beside others
-- adds what it did to what they did), if the job is still this worker's.
SELECT progress_done, counts, checkpoint FROM jobs
WHERE tenant_id = $1::text AND job_id = $2::text AND worker = $3::text AND status = 'running'
FOR NO KEY UPDATE;
