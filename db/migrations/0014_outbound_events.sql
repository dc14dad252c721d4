-- Outbound events: a transactional outbox. Each event is written in the transaction of the
-- change it reports; delivery workers lease due events (FOR UPDATE SKIP LOCKED), POST them
-- to the program's webhook_url, and mark them delivered, due again later, or failed.
-- Kept small, as it is written with every award: an event that reports a hook answer points
-- at its transaction (the answer is stored there once) instead of copying it, and the table
-- has two indexes only.

-- The event's number: unique across tenants (the event id is 'evt_' and this number), so
-- that it grows with each event of a tenant, with gaps.
CREATE SEQUENCE outbox_sequence;

CREATE TABLE outbox_events (
    tenant_id       text NOT NULL,
    sequence        bigint NOT NULL DEFAULT nextval('outbox_sequence'),
    type            text NOT NULL,
    member_id       text,
    transaction_id  text,  -- the hook answer it carries, for points.awarded / clawed_back
    data            jsonb,
    occurred_at     timestamptz NOT NULL DEFAULT now(),
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    give_up_at      timestamptz NOT NULL DEFAULT now() + interval '72 hours',
    last_error      text,
    delivered_at    timestamptz,
    PRIMARY KEY (tenant_id, sequence),
    CHECK (data IS NOT NULL OR transaction_id IS NOT NULL)
);
-- What delivery workers scan: each tenant's due pending events, oldest due first.
CREATE INDEX outbox_due ON outbox_events (tenant_id, next_attempt_at) WHERE status = 'pending';

-- points.expiring is announced once per member and expiry date.
CREATE TABLE expiry_notices (
    tenant_id  text NOT NULL,
    member_id  text NOT NULL,
    expires_at timestamptz NOT NULL,
    points     bigint NOT NULL,
    noticed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, member_id, expires_at)
);
