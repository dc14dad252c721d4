-- Points engine: program settings, earn rules, draw campaigns, the ledger and lots.

-- One row per tenant: the program document of PUT /v1/admin/program, and a version that
-- every earn-rule or draw-campaign change bumps (workers rebuild their compiled rules on it).
CREATE TABLE programs (
    tenant_id     text PRIMARY KEY REFERENCES tenants (tenant_id),
    config        jsonb NOT NULL,
    rules_version bigint NOT NULL DEFAULT 1,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE members
    ADD COLUMN points_balance  bigint NOT NULL DEFAULT 0,
    ADD COLUMN lifetime_earned bigint NOT NULL DEFAULT 0;

ALTER TABLE transactions
    ADD COLUMN refunded_minor bigint NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0),
    ADD COLUMN reversed       boolean NOT NULL DEFAULT false,
    ADD CHECK (refunded_minor <= amount_minor);

CREATE TABLE earn_rules (
    tenant_id   text NOT NULL REFERENCES tenants (tenant_id),
    rule_id     text NOT NULL,
    definition  jsonb NOT NULL,
    active      boolean NOT NULL,
    budget_used bigint NOT NULL DEFAULT 0 CHECK (budget_used >= 0),
    deleted     boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, rule_id)
);

-- Bonus a rule paid one member in one period ('d:2026-11-21' or 'm:2026-11'), for the caps.
CREATE TABLE rule_usage (
    tenant_id text NOT NULL,
    rule_id   text NOT NULL,
    member_id text NOT NULL,
    period    text NOT NULL,
    points    bigint NOT NULL CHECK (points >= 0),
    PRIMARY KEY (tenant_id, member_id, rule_id, period)
);

CREATE TABLE draw_campaigns (
    tenant_id   text NOT NULL REFERENCES tenants (tenant_id),
    campaign_id text NOT NULL,
    definition  jsonb NOT NULL,
    secret      bytea NOT NULL CHECK (length(secret) = 32),
    commitment  text NOT NULL,
    starts_at   timestamptz,
    ends_at     timestamptz,
    total_used  bigint NOT NULL DEFAULT 0 CHECK (total_used >= 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, campaign_id)
);

CREATE TABLE draw_daily_usage (
    tenant_id   text NOT NULL,
    campaign_id text NOT NULL,
    day         date NOT NULL,
    used        bigint NOT NULL CHECK (used >= 0),
    PRIMARY KEY (tenant_id, campaign_id, day)
);

-- Every draw, so that anyone can recompute it once the secret is revealed.
CREATE TABLE draws (
    tenant_id      text NOT NULL,
    campaign_id    text NOT NULL,
    transaction_id text NOT NULL,
    member_id      text NOT NULL,
    drawn          integer NOT NULL,
    paid           integer NOT NULL,
    points         bigint NOT NULL,
    proof          text NOT NULL,
    day            date NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, campaign_id, transaction_id)
);

-- The ledger: immutable transfers between two accounts. Account ids are
-- 'member:<id>', 'program', 'campaign:<id>', 'merchant:<id>', 'expired', 'redeemed',
-- 'adjustments'. A correction is a new transfer that points at the one it corrects.
CREATE TABLE transfers (
    tenant_id      text NOT NULL,
    transfer_id    bigint GENERATED ALWAYS AS IDENTITY,
    debit_account  text NOT NULL,
    credit_account text NOT NULL,
    amount         bigint NOT NULL CHECK (amount > 0),
    kind           text NOT NULL,
    member_id      text NOT NULL,
    transaction_id text,
    detail         jsonb NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, transfer_id),
    CHECK (debit_account <> credit_account)
);
CREATE INDEX transfers_member ON transfers (tenant_id, member_id, transfer_id DESC);
CREATE INDEX transfers_day ON transfers (tenant_id, created_at);

CREATE FUNCTION transfers_are_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger transfers are immutable: correct them with a new transfer'
        USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER transfers_immutable BEFORE UPDATE OR DELETE ON transfers
    FOR EACH ROW EXECUTE FUNCTION transfers_are_immutable();
CREATE TRIGGER transfers_no_truncate BEFORE TRUNCATE ON transfers
    FOR EACH STATEMENT EXECUTE FUNCTION transfers_are_immutable();

-- Both legs of every transfer: the credit positive, the debit negative.
CREATE VIEW postings AS
    SELECT tenant_id, transfer_id, credit_account AS account_id, amount FROM transfers
    UNION ALL
    SELECT tenant_id, transfer_id, debit_account AS account_id, -amount FROM transfers;

-- Points a member holds, by when they were earned: spent and expired oldest first.
CREATE TABLE lots (
    tenant_id      text NOT NULL,
    lot_id         bigint GENERATED ALWAYS AS IDENTITY,
    member_id      text NOT NULL,
    transaction_id text,
    amount         bigint NOT NULL CHECK (amount > 0),
    remaining      bigint NOT NULL CHECK (remaining >= 0 AND remaining <= amount),
    earned_at      timestamptz NOT NULL,
    available_at   timestamptz NOT NULL,
    expires_at     timestamptz,
    PRIMARY KEY (tenant_id, lot_id)
);
CREATE INDEX lots_open ON lots (tenant_id, member_id, expires_at, lot_id) WHERE remaining > 0;
CREATE INDEX lots_expiring ON lots (tenant_id, expires_at) WHERE remaining > 0;

-- Lots are merged per member by (expiry, availability), so a member holds a handful of lots.
CREATE UNIQUE INDEX lots_bucket ON lots (tenant_id, member_id, expires_at, available_at)
    NULLS NOT DISTINCT;
