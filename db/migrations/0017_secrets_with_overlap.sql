-- Every secret of a tenant (hook, member token, event signing) in one table, each with the
-- time it stops being accepted: NULL for the current one, a rotation's overlap for the one
-- before it. Events get a signing secret of their own: a receiver of events must not hold
-- the secret that signs card transactions.
CREATE TABLE tenant_secrets (
    tenant_id text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('hook', 'member', 'event')),
    secret text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    valid_until timestamptz,
    PRIMARY KEY (tenant_id, kind, secret)
);
CREATE UNIQUE INDEX tenant_secrets_current ON tenant_secrets (tenant_id, kind)
    WHERE valid_until IS NULL;

INSERT INTO tenant_secrets (tenant_id, kind, secret, valid_until)
SELECT t.tenant_id, 'hook', s.secret, CASE WHEN s.n > 1 THEN now() + interval '24 hours' END
FROM tenants t, unnest(t.hook_secrets[1:2]) WITH ORDINALITY AS s(secret, n);

INSERT INTO tenant_secrets (tenant_id, kind, secret)
SELECT tenant_id, 'member', member_token_secret FROM tenants;

-- Existing tenants get an event signing secret of their own. So that their receivers,
-- which check signatures made with the hook secret, lose nothing on the upgrade, events
-- are signed with the hook secret as well for 24 hours: time to run
-- `rewards tenant rotate-event-secret`, which shows a secret the receivers can use.
INSERT INTO tenant_secrets (tenant_id, kind, secret)
SELECT tenant_id,
       'event',
       encode(sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8')),
              'hex')
FROM tenants;
INSERT INTO tenant_secrets (tenant_id, kind, secret, valid_until)
SELECT tenant_id, 'event', hook_secrets[1], now() + interval '24 hours' FROM tenants;

ALTER TABLE tenants DROP COLUMN hook_secrets, DROP COLUMN member_token_secret;
