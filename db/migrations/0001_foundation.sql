-- Foundation: tenants, credentials, merchants, members, hook transactions, audit log.
-- Every table is keyed by tenant_id first so that it can be distributed by tenant.

CREATE TABLE tenants (
    tenant_id           text PRIMARY KEY,
    name                text NOT NULL,
    -- Newest first. The first two are accepted on incoming hooks (rotation).
    hook_secrets        text[] NOT NULL CHECK (cardinality(hook_secrets) >= 1),
    member_token_secret text NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    tenant_id   text NOT NULL REFERENCES tenants (tenant_id),
    key_hash    bytea NOT NULL,
    role        text NOT NULL CHECK (role IN ('admin', 'merchant')),
    merchant_id text,
    label       text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    PRIMARY KEY (tenant_id, key_hash),
    CHECK ((role = 'merchant') = (merchant_id IS NOT NULL))
);

CREATE TABLE merchants (
    tenant_id   text NOT NULL REFERENCES tenants (tenant_id),
    merchant_id text NOT NULL,
    name        text NOT NULL,
    category    text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, merchant_id)
);

CREATE TABLE members (
    tenant_id          text NOT NULL REFERENCES tenants (tenant_id),
    member_id          text NOT NULL,
    tier               text,
    segments           text[] NOT NULL DEFAULT '{}',
    card_products      text[] NOT NULL DEFAULT '{}',
    referral_code_used text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, member_id)
);

-- One row per card transaction the processor posted; the id is the idempotency key.
CREATE TABLE transactions (
    tenant_id      text NOT NULL REFERENCES tenants (tenant_id),
    transaction_id text NOT NULL,
    body_hash      bytea NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('purchase', 'refund', 'reversal')),
    member_id      text NOT NULL,
    original_id    text,
    amount_minor   bigint NOT NULL CHECK (amount_minor >= 0),
    currency       text NOT NULL,
    occurred_at    timestamptz NOT NULL,
    body           jsonb NOT NULL,
    response       jsonb NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, transaction_id)
);
CREATE INDEX transactions_member ON transactions (tenant_id, member_id, occurred_at);

-- Every change an operator or merchant made: who, when, what, before and after.
CREATE TABLE audit_log (
    tenant_id   text NOT NULL REFERENCES tenants (tenant_id),
    audit_id    bigint GENERATED ALWAYS AS IDENTITY,
    actor       text NOT NULL,
    action      text NOT NULL,
    entity_type text NOT NULL,
    entity_id   text NOT NULL,
    before      jsonb,
    after       jsonb,
    at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, audit_id)
);
