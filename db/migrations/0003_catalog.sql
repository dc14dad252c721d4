-- The benefit catalog: items, code pools, redemptions, and idempotency keys of mobile writes.

CREATE TABLE catalog_items (
    tenant_id           text NOT NULL REFERENCES tenants (tenant_id),
    sku                 text NOT NULL,
    definition          jsonb NOT NULL,
    category            text NOT NULL,
    points_price        bigint NOT NULL CHECK (points_price >= 0),
    cash_price_minor    bigint NOT NULL CHECK (cash_price_minor >= 0),
    -- NULL: unlimited. For pool items, the number of codes not yet handed out.
    stock_left          bigint CHECK (stock_left >= 0),
    redeemed            bigint NOT NULL DEFAULT 0 CHECK (redeemed >= 0),
    active              boolean NOT NULL DEFAULT true,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, sku)
);

CREATE TABLE catalog_codes (
    tenant_id     text NOT NULL,
    sku           text NOT NULL,
    code_id       bigint GENERATED ALWAYS AS IDENTITY,
    code          text NOT NULL,
    status        text NOT NULL DEFAULT 'available' CHECK (status IN ('available', 'issued', 'void')),
    redemption_id text,
    PRIMARY KEY (tenant_id, code_id),
    UNIQUE (tenant_id, sku, code)
);
CREATE INDEX catalog_codes_available ON catalog_codes (tenant_id, sku, code_id)
    WHERE status = 'available';

CREATE TABLE redemptions (
    tenant_id      text NOT NULL,
    redemption_id  text NOT NULL,
    member_id      text NOT NULL,
    sku            text NOT NULL,
    quantity       integer NOT NULL CHECK (quantity > 0),
    points_spent   bigint NOT NULL CHECK (points_spent >= 0),
    cash_due_minor bigint NOT NULL CHECK (cash_due_minor >= 0),
    codes          text[] NOT NULL,
    -- Which lots the points came from, so that a cancel puts them back where they were.
    lots_taken     jsonb NOT NULL,
    status         text NOT NULL CHECK (status IN ('completed', 'cancelled')),
    device_id      text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    cancel_until   timestamptz,
    cancelled_at   timestamptz,
    PRIMARY KEY (tenant_id, redemption_id)
);
CREATE INDEX redemptions_member ON redemptions (tenant_id, member_id, sku, created_at);

-- A mobile write's Idempotency-Key: the first answer, replayed for the same key and body.
CREATE TABLE idempotency_keys (
    tenant_id    text NOT NULL,
    scope        text NOT NULL,
    key          text NOT NULL,
    request_hash bytea NOT NULL,
    status       integer,
    response     jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, scope, key)
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);
