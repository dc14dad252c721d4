-- Named queries of rewards.idempotency.repository, loaded once and called by name.

-- name: idempotency_reserve
INSERT INTO idempotency_keys (tenant_id, scope, key, request_hash)
VALUES ($1::text, $2::text, $3::text, $4::bytea)
ON CONFLICT (tenant_id, scope, key) DO NOTHING
RETURNING key;

-- name: idempotency_get
SELECT request_hash, status, response FROM idempotency_keys
WHERE tenant_id = $1::text AND scope = $2::text AND key = $3::text;

-- name: idempotency_save
UPDATE idempotency_keys SET status = $4::int, response = $5::jsonb
WHERE tenant_id = $1::text AND scope = $2::text AND key = $3::text;

-- name: job_forget_old_idempotency_keys
-- Keys are kept at least 24 hours; the periodic job removes those older than two days
-- (across tenants, like the other periodic work).
DELETE FROM idempotency_keys WHERE created_at < $1::timestamptz;

-- name: idempotency_release
-- A refusal of the moment (429) is not kept: the same key may be sent again later.
DELETE FROM idempotency_keys WHERE tenant_id = $1::text AND scope = $2::text AND key = $3::text;
