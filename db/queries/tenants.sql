-- name: tenant_insert
INSERT INTO tenants (tenant_id, name, hook_secrets, member_token_secret)
VALUES ($1::text, $2::text, $3::text[], $4::text);

-- name: tenant_secrets
SELECT tenant_id, hook_secrets, member_token_secret FROM tenants WHERE tenant_id = $1::text;

-- name: tenant_find_by_name
SELECT tenant_id FROM tenants WHERE name = $1::text ORDER BY created_at LIMIT 1;

-- name: tenant_rotate_hook_secret
UPDATE tenants
SET hook_secrets = ARRAY[$2::text] || hook_secrets[1:1]
WHERE tenant_id = $1::text
RETURNING tenant_id;

-- name: api_key_insert
INSERT INTO api_keys (tenant_id, key_hash, role, merchant_id, label)
VALUES ($1::text, $2::bytea, $3::text, $4::text, $5::text);

-- name: api_key_lookup
SELECT tenant_id, role, merchant_id
FROM api_keys
WHERE tenant_id = $1::text AND key_hash = $2::bytea AND revoked_at IS NULL;
