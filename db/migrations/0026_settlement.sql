-- Money between the program and its merchants: what each offer redemption costs whom, and
-- statements per merchant and calendar month (in the program's time zone) closed once.

-- Each offer record says whose offer it was, where and when, and what of its reward the
-- merchant pays (funding at the time of the match: a clawback takes the share of the match
-- it reverses). Rows written before this migration are the program's own cost.
ALTER TABLE offer_redemptions
    ADD COLUMN merchant_id text,
    ADD COLUMN store_id text,
    ADD COLUMN occurred_at timestamptz,
    ADD COLUMN share_pct smallint NOT NULL DEFAULT 0 CHECK (share_pct BETWEEN 0 AND 100),
    ADD COLUMN fee_per_match bigint NOT NULL DEFAULT 0 CHECK (fee_per_match >= 0),
    ADD COLUMN merchant_share_minor bigint NOT NULL DEFAULT 0,
    ADD COLUMN fee_minor bigint NOT NULL DEFAULT 0,
    -- The first day of the period whose statement settled the record (set once, by the
    -- close of that period); NULL while it is open.
    ADD COLUMN settled date;

UPDATE offer_redemptions r SET merchant_id = o.merchant_id
FROM offers o WHERE o.tenant_id = r.tenant_id AND o.offer_id = r.offer_id;
UPDATE offer_redemptions SET occurred_at = created_at;
ALTER TABLE offer_redemptions
    ALTER COLUMN merchant_id SET NOT NULL,
    ALTER COLUMN occurred_at SET NOT NULL;

-- What is not settled yet, by merchant: a close walks it merchant by merchant and an open
-- statement reads it; settled records leave it.
CREATE INDEX offer_redemptions_unsettled ON offer_redemptions (tenant_id, merchant_id, day)
    WHERE settled IS NULL;
CREATE INDEX offer_redemptions_settled ON offer_redemptions (tenant_id, settled, merchant_id)
    WHERE settled IS NOT NULL;

-- The merchant's share of a reward (or of a clawback: negative), to the fen, half up.
CREATE FUNCTION merchant_share(reward bigint, pct integer) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT sign(reward)::bigint * ((abs(reward) * pct + 50) / 100)
$$;

-- A period being closed (a job, merchant by merchant) or closed.
CREATE TABLE settlement_periods (
    tenant_id text NOT NULL,
    period date NOT NULL,
    status text NOT NULL CHECK (status IN ('closing', 'closed')),
    job_id text NOT NULL,
    closed_at timestamptz,
    PRIMARY KEY (tenant_id, period)
);

-- A merchant's closed statement: its totals and the digest of its lines as downloaded.
CREATE TABLE statements (
    tenant_id text NOT NULL,
    period date NOT NULL,
    merchant_id text NOT NULL,
    lines bigint NOT NULL,
    reward_minor bigint NOT NULL,
    merchant_due_minor bigint NOT NULL,
    program_due_minor bigint NOT NULL,
    fees_minor bigint NOT NULL,
    sha256 text NOT NULL,
    closed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, period, merchant_id)
);
CREATE INDEX statements_merchant ON statements (tenant_id, merchant_id, period);

-- A statement's line as CSV: one function, so that the digest made at the close and the
-- lines downloaded later are the same bytes.
CREATE FUNCTION statement_line(r offer_redemptions) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT concat_ws(',',
        r.transaction_id,
        coalesce(r.original_id, ''),
        r.offer_id,
        coalesce(r.store_id, ''),
        to_char(r.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        CASE WHEN r.original_id IS NULL THEN 'match' ELSE 'clawback' END,
        r.spend_minor,
        r.reward_minor,
        r.points,
        r.merchant_share_minor,
        r.fee_minor) || E'\n'
$$;
