-- Named queries of rewards.tenants.repository, loaded once and called by name.

-- name: tenant_insert
-- A new tenant with its first secrets ($3: kinds, $4: secrets); nothing when the id is taken.
WITH tenant AS (
    INSERT INTO tenants (tenant_id, name) VALUES ($1::text, $2::text)
    ON CONFLICT (tenant_id) DO NOTHING
    RETURNING tenant_id
), made AS (
    INSERT INTO tenant_secrets (tenant_id, kind, secret)
    SELECT t.tenant_id, s.kind, s.secret
    FROM tenant t, unnest($3::text[], $4::text[]) AS s(kind, secret)
)
SELECT tenant_id FROM tenant;

-- name: tenant_secrets
-- The secrets accepted now, the current one of each kind first.
SELECT t.tenant_id, t.device_key,
       coalesce(s.hook, '{}') AS hook_secrets,
       coalesce(s.member, '{}') AS member_token_secrets
FROM tenants t
LEFT JOIN LATERAL (
    SELECT array_agg(secret ORDER BY valid_until DESC NULLS FIRST)
               FILTER (WHERE kind = 'hook') AS hook,
           array_agg(secret ORDER BY valid_until DESC NULLS FIRST)
               FILTER (WHERE kind = 'member') AS member
    FROM tenant_secrets
    WHERE tenant_id = t.tenant_id AND (valid_until IS NULL OR valid_until > now())
) s ON true
WHERE t.tenant_id = $1::text;

-- name: tenant_find_by_name
SELECT tenant_id FROM tenants WHERE name = $1::text ORDER BY created_at LIMIT 1;

-- name: secret_retire
-- A rotation, with the tenant's row locked: the current secret of kind $2 stays accepted
-- for $3 seconds more; one retired before it goes now (only the previous secret overlaps).
WITH retired AS (
    UPDATE tenant_secrets SET valid_until = now() + make_interval(secs => $3::float8)
    WHERE tenant_id = $1::text AND kind = $2::text AND valid_until IS NULL
)
DELETE FROM tenant_secrets
WHERE tenant_id = $1::text AND kind = $2::text AND valid_until IS NOT NULL;

-- name: secret_insert
INSERT INTO tenant_secrets (tenant_id, kind, secret) VALUES ($1::text, $2::text, $3::text);

-- name: api_key_insert
INSERT INTO api_keys (tenant_id, key_hash, role, merchant_id, label, key_id, prefix)
VALUES ($1::text, $2::bytea, $3::text, $4::text, $5::text, $6::text, $7::text)
RETURNING key_id, prefix, label, role, merchant_id, created_at, last_used_at;

-- name: api_key_lookup
-- The key's holder; notes the use, at most once a minute per key.
WITH found AS (
    SELECT tenant_id, key_hash, role, merchant_id, last_used_at, key_id, label, prefix
    FROM api_keys
    WHERE tenant_id = $1::text AND key_hash = $2::bytea AND revoked_at IS NULL
), touched AS (
    UPDATE api_keys k SET last_used_at = now()
    FROM found f
    WHERE k.tenant_id = f.tenant_id AND k.key_hash = f.key_hash
      AND (f.last_used_at IS NULL OR f.last_used_at < now() - interval '1 minute')
)
SELECT tenant_id, role, merchant_id, key_id, label, prefix FROM found;

-- name: api_key_list
-- Live keys of one holder (the tenant's operators, or one merchant), oldest first.
SELECT key_id, prefix, label, role, merchant_id, created_at, last_used_at
FROM api_keys
WHERE tenant_id = $1::text AND role = $2::text
  AND merchant_id IS NOT DISTINCT FROM $3::text
  AND revoked_at IS NULL
  AND ($4::text IS NULL OR key_id > $4::text)
ORDER BY key_id
LIMIT $5::int;

-- name: api_key_revoke
UPDATE api_keys SET revoked_at = now()
WHERE tenant_id = $1::text AND key_id = $2::text AND role = $3::text
  AND merchant_id IS NOT DISTINCT FROM $4::text AND revoked_at IS NULL
RETURNING key_id, prefix, label, role, merchant_id, created_at, last_used_at, key_hash;

-- name: api_key_count_live_admin
-- Taken with the tenant's row locked, so that two revocations cannot both see a second key.
SELECT count(*) FROM api_keys
WHERE tenant_id = $1::text AND role = 'admin' AND revoked_at IS NULL;

-- name: tenant_lock
SELECT tenant_id FROM tenants WHERE tenant_id = $1::text FOR UPDATE;

-- name: api_key_revoke_labelled
-- The demo's earlier keys, revoked when it hands out new ones.
UPDATE api_keys SET revoked_at = now()
WHERE tenant_id = $1::text AND label = ANY($2::text[]) AND revoked_at IS NULL
RETURNING key_id;

-- name: web_session_open
-- A session for a live key of the role asked for; the key's expired sessions go at once.
WITH key AS (
    SELECT tenant_id, key_hash, role, merchant_id FROM api_keys
    WHERE tenant_id = $1::text AND key_hash = $2::bytea AND revoked_at IS NULL
      AND role = $6::text
), gone AS (
    DELETE FROM web_sessions s USING key k
    WHERE s.tenant_id = k.tenant_id AND s.key_hash = k.key_hash AND s.expires_at < now()
), opened AS (
    INSERT INTO web_sessions (tenant_id, session_hash, key_hash, csrf_token, expires_at)
    SELECT tenant_id, $3::bytea, key_hash, $4::text, now() + make_interval(secs => $5::float8)
    FROM key
    RETURNING tenant_id
)
SELECT k.tenant_id, k.role, k.merchant_id FROM key k JOIN opened o USING (tenant_id);

-- name: web_session_find
-- The session's holder while the session is unexpired and its key unrevoked.
SELECT k.tenant_id, k.role, k.merchant_id, s.csrf_token, k.key_id, k.label, k.prefix
FROM web_sessions s
JOIN api_keys k ON k.tenant_id = s.tenant_id AND k.key_hash = s.key_hash
WHERE s.tenant_id = $1::text AND s.session_hash = $2::bytea
  AND s.expires_at > now() AND k.revoked_at IS NULL;

-- name: web_session_close
DELETE FROM web_sessions WHERE tenant_id = $1::text AND session_hash = $2::bytea;

-- name: web_sessions_close_revoked
-- A revoked key's sessions, deleted with it (the look-up refuses them already).
DELETE FROM web_sessions WHERE tenant_id = $1::text AND key_hash = $2::bytea;

-- name: sign_in_failures_now
-- The client's failed sign-ins this minute with keys naming tenant $1 ('' for none).
SELECT coalesce(sum(failures), 0)::int FROM sign_in_failures
WHERE tenant_id = $1::text AND client = $2::text AND minute = date_trunc('minute', now());

-- name: sign_in_failure_note
-- One more failed sign-in of the client naming tenant $1 this minute; the count now, and
-- the seconds left in the minute. That tenant's minutes older than an hour go.
WITH gone AS (
    DELETE FROM sign_in_failures
    WHERE tenant_id = $1::text AND minute < now() - interval '1 hour'
)
INSERT INTO sign_in_failures AS f (tenant_id, client, minute, failures)
VALUES ($1::text, $2::text, date_trunc('minute', now()), 1)
ON CONFLICT (tenant_id, client, minute) DO UPDATE SET failures = f.failures + 1
RETURNING failures,
          ceil(extract(epoch FROM minute + interval '1 minute' - now()))::int AS seconds_left;

-- name: tenant_exists
SELECT EXISTS (SELECT 1 FROM tenants WHERE tenant_id = $1::text);

-- name: tenant_list
-- Cross-tenant (the command line): every tenant, by id; keyset $1 = the last id seen.
SELECT tenant_id, name, created_at FROM tenants
WHERE $1::text IS NULL OR tenant_id > $1::text
ORDER BY tenant_id
LIMIT $2::int;
