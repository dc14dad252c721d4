-- API keys that operators can list and revoke: a public id, the visible start of the key,
-- and when it was last used (kept to the minute, so that a busy key is not a write per call).

ALTER TABLE api_keys
    ADD COLUMN key_id       text,
    ADD COLUMN prefix       text NOT NULL DEFAULT '',
    ADD COLUMN last_used_at timestamptz;

-- Keys made before this migration get an id from their hash; their visible start is the
-- part every key of the tenant shares (the rest was never stored).
UPDATE api_keys
SET key_id = 'key_' || substr(encode(key_hash, 'hex'), 1, 16),
    prefix = CASE role WHEN 'admin' THEN 'radm.' ELSE 'rmch.' END || tenant_id || '.';

ALTER TABLE api_keys ALTER COLUMN key_id SET NOT NULL;
CREATE UNIQUE INDEX api_keys_key_id ON api_keys (tenant_id, key_id);
