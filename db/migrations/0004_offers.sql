-- Merchant offers: stores indexed by H3 cell, offers and their budgets, claims and uses,
-- and every offer redemption (with refunds as negative rows) for the stats.

CREATE TABLE stores (
    tenant_id   text NOT NULL REFERENCES tenants (tenant_id),
    store_id    text NOT NULL,
    merchant_id text NOT NULL,
    name        text NOT NULL,
    address     text NOT NULL DEFAULT '',
    lat         double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lng         double precision NOT NULL CHECK (lng BETWEEN -180 AND 180),
    h3_r6       bigint NOT NULL,
    h3_r7       bigint NOT NULL,
    h3_r8       bigint NOT NULL,
    h3_r9       bigint NOT NULL,
    h3_r10      bigint NOT NULL,
    deleted     boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, store_id)
);
CREATE INDEX stores_merchant ON stores (tenant_id, merchant_id, store_id);
CREATE INDEX stores_r6 ON stores (tenant_id, h3_r6) WHERE NOT deleted;
CREATE INDEX stores_r7 ON stores (tenant_id, h3_r7) WHERE NOT deleted;
CREATE INDEX stores_r8 ON stores (tenant_id, h3_r8) WHERE NOT deleted;
CREATE INDEX stores_r9 ON stores (tenant_id, h3_r9) WHERE NOT deleted;
CREATE INDEX stores_r10 ON stores (tenant_id, h3_r10) WHERE NOT deleted;

CREATE TABLE offers (
    tenant_id         text NOT NULL REFERENCES tenants (tenant_id),
    offer_id          text NOT NULL,
    merchant_id       text NOT NULL,
    definition        jsonb NOT NULL,
    category          text NOT NULL,
    status            text NOT NULL CHECK (status IN
                          ('pending_review', 'active', 'paused', 'exhausted', 'rejected')),
    all_stores        boolean NOT NULL,
    redemptions_used  bigint NOT NULL DEFAULT 0 CHECK (redemptions_used >= 0),
    reward_used_minor bigint NOT NULL DEFAULT 0 CHECK (reward_used_minor >= 0),
    reject_reason     text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, offer_id)
);
CREATE INDEX offers_merchant ON offers (tenant_id, merchant_id, offer_id);
CREATE INDEX offers_status ON offers (tenant_id, status, offer_id);

CREATE TABLE offer_stores (
    tenant_id text NOT NULL,
    store_id  text NOT NULL,
    offer_id  text NOT NULL,
    PRIMARY KEY (tenant_id, store_id, offer_id)
);
CREATE INDEX offer_stores_offer ON offer_stores (tenant_id, offer_id);

-- A member's claim of an offer (claimed_at NULL: an auto offer used without a claim) and
-- how many times the member used it, net of refunds.
CREATE TABLE offer_members (
    tenant_id  text NOT NULL,
    member_id  text NOT NULL,
    offer_id   text NOT NULL,
    claimed_at timestamptz,
    uses       integer NOT NULL DEFAULT 0 CHECK (uses >= 0),
    PRIMARY KEY (tenant_id, member_id, offer_id)
);
CREATE INDEX offer_members_offer ON offer_members (tenant_id, offer_id, claimed_at);

CREATE TABLE offer_redemptions (
    tenant_id      text NOT NULL,
    offer_id       text NOT NULL,
    transaction_id text NOT NULL,
    member_id      text NOT NULL,
    original_id    text,
    uses           integer NOT NULL,
    reward_minor   bigint NOT NULL,
    points         bigint NOT NULL,
    spend_minor    bigint NOT NULL,
    day            date NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, offer_id, transaction_id)
);
CREATE INDEX offer_redemptions_day ON offer_redemptions (tenant_id, offer_id, day);
