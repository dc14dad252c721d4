-- Named queries of rewards.approvals.repository: changes waiting for a second admin key.

-- name: approval_add
INSERT INTO approvals (tenant_id, approval_id, kind, summary, request, requested_by,
                       requested_key)
VALUES ($1::text, $2::text, $3::text, $4::jsonb, $5::jsonb, $6::text, $7::text)
RETURNING approval_id, kind, status, summary, request, requested_by, requested_key,
          decided_by, decided_at, result, created_at;

-- name: approval_lock
-- The approval, locked: two keys deciding at once decide one after the other.
SELECT approval_id, kind, status, summary, request, requested_by, requested_key, decided_by,
       decided_at, result, created_at
FROM approvals WHERE tenant_id = $1::text AND approval_id = $2::text FOR UPDATE;

-- name: approval_decide
UPDATE approvals
SET status = $3::text, decided_by = $4::text, decided_key = $5::text, decided_at = now(),
    result = $6::jsonb
WHERE tenant_id = $1::text AND approval_id = $2::text
RETURNING approval_id, kind, status, summary, request, requested_by, requested_key,
          decided_by, decided_at, result, created_at;

-- name: approval_list
-- Approvals of a status ($2; NULL: any), newest first, from before the cursor ($3, $4).
SELECT approval_id, kind, status, summary, request, requested_by, requested_key, decided_by,
       decided_at, result, created_at
FROM approvals
WHERE tenant_id = $1::text AND ($2::text IS NULL OR status = $2::text)
  AND ($3::timestamptz IS NULL OR (created_at, approval_id) < ($3::timestamptz, $4::text))
ORDER BY created_at DESC, approval_id DESC
LIMIT $5::int;
