-- Configuration with history, hook transactions in the order they were recorded, members'
-- attributes over time, and background jobs (replays first; bulk work uses the same).

-- Every version of the program, an earn rule, a draw campaign or an offer, with the time it
-- took effect. Program, rules and campaigns also carry the program's rules_version they
-- made (a hook transaction records the version it was planned under); offers are read by
-- time. A NULL document: the object was deleted.
CREATE TABLE config_history (
    tenant_id text NOT NULL REFERENCES tenants (tenant_id),
    change_id bigserial NOT NULL,
    kind text NOT NULL CHECK (kind IN ('program', 'earn_rule', 'draw_campaign', 'offer')),
    object_id text NOT NULL,
    version bigint,
    valid_from timestamptz NOT NULL DEFAULT clock_timestamp(),
    document jsonb,
    PRIMARY KEY (tenant_id, kind, object_id, change_id)
);
CREATE INDEX config_history_version ON config_history (tenant_id, version, change_id);

-- Today's configuration is the first version.
INSERT INTO config_history (tenant_id, kind, object_id, version, valid_from, document)
SELECT tenant_id, 'program', tenant_id, rules_version, '-infinity', config FROM programs;
INSERT INTO config_history (tenant_id, kind, object_id, version, valid_from, document)
SELECT r.tenant_id, 'earn_rule', r.rule_id, coalesce(p.rules_version, 0), r.created_at,
       r.definition
FROM earn_rules r LEFT JOIN programs p ON p.tenant_id = r.tenant_id
WHERE NOT r.deleted;
INSERT INTO config_history (tenant_id, kind, object_id, version, valid_from, document)
SELECT c.tenant_id, 'draw_campaign', c.campaign_id, coalesce(p.rules_version, 0), c.created_at,
       c.definition
FROM draw_campaigns c LEFT JOIN programs p ON p.tenant_id = c.tenant_id;

-- Offers: each change of what decides a match (definition, status) is kept by a trigger, so
-- that every writer (the portal, review, the demo's import) is covered.
CREATE FUNCTION record_offer_version() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    INSERT INTO config_history (tenant_id, kind, object_id, document)
    VALUES (NEW.tenant_id, 'offer', NEW.offer_id,
            jsonb_build_object('merchant_id', NEW.merchant_id, 'status', NEW.status,
                               'definition', NEW.definition));
    RETURN NULL;
END;
$$;
CREATE TRIGGER offers_history_insert AFTER INSERT ON offers
    FOR EACH ROW EXECUTE FUNCTION record_offer_version();
CREATE TRIGGER offers_history_update AFTER UPDATE OF definition, status, merchant_id ON offers
    FOR EACH ROW
    WHEN (OLD.definition IS DISTINCT FROM NEW.definition OR OLD.status IS DISTINCT FROM NEW.status
          OR OLD.merchant_id IS DISTINCT FROM NEW.merchant_id)
    EXECUTE FUNCTION record_offer_version();
INSERT INTO config_history (tenant_id, kind, object_id, valid_from, document)
SELECT tenant_id, 'offer', offer_id, created_at,
       jsonb_build_object('merchant_id', merchant_id, 'status', status, 'definition', definition)
FROM offers;

-- A member's attributes that conditions read (tier, segments, card products), each time
-- they change: what a replay or an explanation sees of the member at a past moment. A
-- member without a row had the defaults (no tier, no segments, no card products).
CREATE TABLE member_changes (
    tenant_id text NOT NULL,
    member_id text NOT NULL,
    change_id bigserial NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    tier text,
    segments text[] NOT NULL,
    card_products text[] NOT NULL,
    PRIMARY KEY (tenant_id, member_id, change_id)
);
CREATE FUNCTION record_member_change() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    INSERT INTO member_changes (tenant_id, member_id, tier, segments, card_products)
    VALUES (NEW.tenant_id, NEW.member_id, NEW.tier, NEW.segments, NEW.card_products);
    RETURN NULL;
END;
$$;
CREATE TRIGGER members_history_insert AFTER INSERT ON members
    FOR EACH ROW
    WHEN (NEW.tier IS NOT NULL OR NEW.segments <> '{}' OR NEW.card_products <> '{}')
    EXECUTE FUNCTION record_member_change();
CREATE TRIGGER members_history_update AFTER UPDATE OF tier, segments, card_products ON members
    FOR EACH ROW
    WHEN (OLD.tier IS DISTINCT FROM NEW.tier OR OLD.segments IS DISTINCT FROM NEW.segments
          OR OLD.card_products IS DISTINCT FROM NEW.card_products)
    EXECUTE FUNCTION record_member_change();
INSERT INTO member_changes (tenant_id, member_id, changed_at, tier, segments, card_products)
SELECT tenant_id, member_id, '-infinity', tier, segments, card_products FROM members
WHERE tier IS NOT NULL OR segments <> '{}' OR card_products <> '{}';

-- Hook transactions in the order they were recorded: a batch number from a sequence and the
-- position in the batch (seq = batch * 65536 + position), the moment the row was written,
-- and the program version the batch was planned under.
CREATE SEQUENCE transaction_batches;
ALTER TABLE transactions
    ADD COLUMN seq bigint,
    ADD COLUMN recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    ADD COLUMN config_version bigint;
UPDATE transactions t SET seq = o.n * 65536, recorded_at = t.created_at
FROM (SELECT tenant_id, transaction_id,
             row_number() OVER (ORDER BY created_at, transaction_id) AS n
      FROM transactions) o
WHERE o.tenant_id = t.tenant_id AND o.transaction_id = t.transaction_id;
SELECT setval('transaction_batches', coalesce((SELECT max(seq) / 65536 FROM transactions), 0) + 1);
ALTER TABLE transactions ALTER COLUMN seq SET NOT NULL;
CREATE INDEX transactions_seq ON transactions (tenant_id, seq);

-- Background jobs: replays, imports, segment loads, grants. Any serving process may take a
-- queued job (FOR UPDATE SKIP LOCKED) and holds it by a lease it renews; a job whose lease
-- ran out (its process died) is taken up again by another.
CREATE TABLE jobs (
    tenant_id text NOT NULL REFERENCES tenants (tenant_id),
    job_id text NOT NULL,
    kind text NOT NULL,
    status text NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    params jsonb NOT NULL,
    progress_done bigint NOT NULL DEFAULT 0,
    progress_total bigint,
    counts jsonb NOT NULL DEFAULT '{}',
    result bytea,
    error text,
    checkpoint jsonb,
    attempts integer NOT NULL DEFAULT 0,
    lease_until timestamptz,
    worker text,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz,
    PRIMARY KEY (tenant_id, job_id)
);
CREATE INDEX jobs_waiting ON jobs (created_at) WHERE status IN ('queued', 'running');
CREATE INDEX jobs_by_kind ON jobs (tenant_id, kind, created_at DESC);

-- The lines (or items) a job could not apply, with the reason.
CREATE TABLE job_errors (
    tenant_id text NOT NULL,
    job_id text NOT NULL,
    line bigint NOT NULL,
    item_id text,
    problem text NOT NULL,
    PRIMARY KEY (tenant_id, job_id, line),
    FOREIGN KEY (tenant_id, job_id) REFERENCES jobs (tenant_id, job_id) ON DELETE CASCADE
);

-- A replay's transactions whose baseline differs from the ledger or whose draft differs from
-- the baseline: what each gave (the rest gave the same as the ledger).
CREATE TABLE replay_transactions (
    tenant_id text NOT NULL,
    job_id text NOT NULL,
    transaction_id text NOT NULL,
    baseline bytea,
    draft bytea,
    PRIMARY KEY (tenant_id, job_id, transaction_id),
    FOREIGN KEY (tenant_id, job_id) REFERENCES jobs (tenant_id, job_id) ON DELETE CASCADE
);
