-- Outbound events: a transactional outbox. Each event is written in the transaction of the
-- change it reports; delivery workers lease due events (FOR UPDATE SKIP LOCKED), POST them
-- to the program's webhook_url, and mark them delivered, due again later, or failed.

CREATE SEQUENCE outbox_sequence;

CREATE TABLE outbox_events (
    tenant_id       text NOT NULL REFERENCES tenants (tenant_id),
    event_id        text NOT NULL,
    -- Increases with each event of the tenant (one counter serves every tenant, so numbers
    -- have gaps); a member's events are numbered in the order they happened.
    sequence        bigint NOT NULL DEFAULT nextval('outbox_sequence'),
    type            text NOT NULL,
    member_id       text,
    data            jsonb NOT NULL,
    occurred_at     timestamptz NOT NULL DEFAULT now(),
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    give_up_at      timestamptz NOT NULL DEFAULT now() + interval '72 hours',
    last_error      text,
    delivered_at    timestamptz,
    PRIMARY KEY (tenant_id, event_id),
    UNIQUE (tenant_id, sequence)
);
-- What delivery workers scan: due pending events, oldest due first.
CREATE INDEX outbox_due ON outbox_events (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_listing ON outbox_events (tenant_id, status, sequence DESC);
CREATE INDEX outbox_delivered ON outbox_events (delivered_at) WHERE status = 'delivered';

-- points.expiring is announced once per member and expiry date.
CREATE TABLE expiry_notices (
    tenant_id  text NOT NULL,
    member_id  text NOT NULL,
    expires_at timestamptz NOT NULL,
    points     bigint NOT NULL,
    noticed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, member_id, expires_at)
);
