-- Member-gets-member referrals, devices seen on the mobile API, the daily points cap, and
-- risk events (every refusal or cap the abuse limits made).

-- Devices are kept as HMAC-SHA256(device_key, X-Device-Id): a key of each tenant's own, so
-- that a device cannot be followed from one tenant to another or guessed from its hash.
ALTER TABLE tenants
    ADD COLUMN device_key bytea NOT NULL
        DEFAULT sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text
                                  || clock_timestamp()::text, 'UTF8'));

-- Device ids were kept as sent; they are not kept raw any more.
ALTER TABLE redemptions ADD COLUMN device bytea;
ALTER TABLE redemptions DROP COLUMN device_id;

-- A member's own code (made on first request) and the code the member was referred with.
ALTER TABLE members ADD COLUMN referral_code text;
CREATE UNIQUE INDEX members_referral_code ON members (tenant_id, referral_code)
    WHERE referral_code IS NOT NULL;

-- One row per referred member: pending until the first qualifying purchase, then rewarded
-- (both bonuses paid by that purchase), refused (a referral ring, or the referrer had had
-- max_per_referrer referees rewarded) or clawed back (that purchase was reversed or refunded
-- in full).
CREATE TABLE referrals (
    tenant_id       text NOT NULL,
    referee_id      text NOT NULL,
    referrer_id     text NOT NULL,
    attached_by     text NOT NULL CHECK (attached_by IN ('member', 'admin')),
    attached_at     timestamptz NOT NULL DEFAULT now(),
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'rewarded', 'refused', 'clawed_back')),
    reason          text,
    transaction_id  text,
    referee_points  bigint NOT NULL DEFAULT 0 CHECK (referee_points >= 0),
    referrer_points bigint NOT NULL DEFAULT 0 CHECK (referrer_points >= 0),
    settled_at      timestamptz,
    PRIMARY KEY (tenant_id, referee_id),
    FOREIGN KEY (tenant_id, referee_id) REFERENCES members (tenant_id, member_id),
    FOREIGN KEY (tenant_id, referrer_id) REFERENCES members (tenant_id, member_id),
    CHECK (referee_id <> referrer_id)
);
CREATE INDEX referrals_referrer ON referrals (tenant_id, referrer_id, attached_at DESC);
CREATE INDEX referrals_transaction ON referrals (tenant_id, transaction_id)
    WHERE transaction_id IS NOT NULL;

-- Devices and the members seen on each, numbered in the order they were first seen: the
-- first max_members_per_device members may claim and redeem from it, later ones may not.
CREATE TABLE devices (
    tenant_id  text NOT NULL REFERENCES tenants (tenant_id),
    device     bytea NOT NULL,
    members    integer NOT NULL DEFAULT 0 CHECK (members >= 0),
    first_seen timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, device)
);
CREATE TABLE device_members (
    tenant_id  text NOT NULL,
    device     bytea NOT NULL,
    member_id  text NOT NULL,
    seq        integer NOT NULL CHECK (seq >= 1),
    first_seen timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, device, member_id),
    UNIQUE (tenant_id, device, seq),
    FOREIGN KEY (tenant_id, device) REFERENCES devices (tenant_id, device)
);
CREATE INDEX device_members_member ON device_members (tenant_id, member_id);

-- Points a member's purchases earned on one day of the program's time zone, for the cap.
CREATE TABLE member_day_points (
    tenant_id text NOT NULL,
    member_id text NOT NULL,
    day       date NOT NULL,
    points    bigint NOT NULL CHECK (points >= 0),
    PRIMARY KEY (tenant_id, member_id, day)
);

CREATE TABLE risk_events (
    tenant_id   text NOT NULL REFERENCES tenants (tenant_id),
    event_id    bigint GENERATED ALWAYS AS IDENTITY,
    member_id   text NOT NULL,
    device      bytea,
    reason      text NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}',
    occurred_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, event_id)
);
CREATE INDEX risk_events_time ON risk_events (tenant_id, event_id DESC);
CREATE INDEX risk_events_member ON risk_events (tenant_id, member_id, event_id DESC);
