-- Sessions of the merchant portal and the operator console. A browser signs in with an API
-- key and gets a random session token in an HttpOnly cookie; only the token's SHA-256 is
-- stored. A session lives while its key does: revoking the key ends every session opened
-- with it, and signing out deletes the row.
CREATE TABLE web_sessions (
    tenant_id text NOT NULL,
    session_hash bytea NOT NULL,
    key_hash bytea NOT NULL,
    csrf_token text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, session_hash),
    FOREIGN KEY (tenant_id, key_hash) REFERENCES api_keys (tenant_id, key_hash) ON DELETE CASCADE
);
CREATE INDEX web_sessions_key ON web_sessions (tenant_id, key_hash);
