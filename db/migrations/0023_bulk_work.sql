-- Bulk work: uploaded bodies kept line by line for their jobs, segments as first-class sets
-- replaced all at once, members moved in from another system with their opening lots, and
-- grants to many members at a time.

-- The lines of an uploaded body (an import, a segment's members, a grant's list), as sent:
-- a job reads them in order and applies each once. A line longer than the limit is kept
-- without its body (a line error). Deleted when the job ends.
CREATE TABLE job_lines (
    tenant_id text NOT NULL,
    job_id text NOT NULL,
    line bigint NOT NULL,
    body bytea,
    PRIMARY KEY (tenant_id, job_id, line)
);

-- Members: a status carried over from another system, and the spend of the twelve months
-- before an import (counted towards tiers as spread evenly over those months).
ALTER TABLE members
    ADD COLUMN status text NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'suspended', 'closed')),
    ADD COLUMN opening_spend_minor bigint NOT NULL DEFAULT 0 CHECK (opening_spend_minor >= 0),
    ADD COLUMN opening_spend_month date;

-- Segments. A segment's members are those of its current generation not removed since; a
-- replace loads a new generation beside the current one and switches to it in one short
-- transaction, so a purchase sees the old members or the new ones, never a mix. Earlier
-- generations stay (with when they were current) for replays, until the periodic job prunes
-- them.
CREATE SEQUENCE segment_generations_seq;
CREATE TABLE segments (
    tenant_id text NOT NULL,
    segment_id text NOT NULL,
    name text NOT NULL,
    description text NOT NULL DEFAULT '',
    generation bigint NOT NULL DEFAULT nextval('segment_generations_seq'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, segment_id)
);
CREATE TABLE segment_generations (
    tenant_id text NOT NULL,
    segment_id text NOT NULL,
    generation bigint NOT NULL,
    active_from timestamptz,
    active_to timestamptz,
    PRIMARY KEY (tenant_id, segment_id, generation)
);
CREATE TABLE segment_members (
    tenant_id text NOT NULL,
    segment_id text NOT NULL,
    generation bigint NOT NULL,
    member_id text NOT NULL,
    added_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    removed_at timestamptz,
    -- A member's memberships, read by member (a purchase, an export), current or past.
    PRIMARY KEY (tenant_id, member_id, segment_id, generation, added_at) INCLUDE (removed_at)
);
CREATE UNIQUE INDEX segment_members_current
    ON segment_members (tenant_id, segment_id, generation, member_id) WHERE removed_at IS NULL;

-- A member's segments now (the current generation of each segment), in id order. Each
-- membership looks its segment up by key (a join would hash every segment of the tenant
-- once per member).
CREATE FUNCTION member_segments(p_tenant text, p_member text) RETURNS text[]
    LANGUAGE sql STABLE
    AS $$
    SELECT coalesce(array_agg(sm.segment_id ORDER BY sm.segment_id), '{}')
    FROM segment_members sm
    WHERE sm.tenant_id = p_tenant AND sm.member_id = p_member AND sm.removed_at IS NULL
      AND sm.generation = (SELECT s.generation FROM segments s
                           WHERE s.tenant_id = sm.tenant_id AND s.segment_id = sm.segment_id)
$$;

-- The members' segments move to the segments (each a generation current since ever).
INSERT INTO segments (tenant_id, segment_id, name)
SELECT DISTINCT tenant_id, s, s FROM members, unnest(segments) AS s;
INSERT INTO segment_generations (tenant_id, segment_id, generation, active_from)
SELECT tenant_id, segment_id, generation, '-infinity' FROM segments;
INSERT INTO segment_members (tenant_id, segment_id, generation, member_id, added_at)
SELECT m.tenant_id, s.segment_id, s.generation, m.member_id, '-infinity'
FROM members m, unnest(m.segments) AS x(segment_id)
JOIN segments s ON s.segment_id = x.segment_id
WHERE s.tenant_id = m.tenant_id;

-- Attributes over time keep tier and card products; segments have their own history (the
-- column stays for the changes recorded before).
DROP TRIGGER members_history_insert ON members;
DROP TRIGGER members_history_update ON members;
ALTER TABLE members DROP COLUMN segments;
CREATE OR REPLACE FUNCTION record_member_change() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    INSERT INTO member_changes (tenant_id, member_id, tier, segments, card_products)
    VALUES (NEW.tenant_id, NEW.member_id, NEW.tier, '{}', NEW.card_products);
    RETURN NULL;
END;
$$;
CREATE TRIGGER members_history_insert AFTER INSERT ON members
    FOR EACH ROW
    WHEN (NEW.tier IS NOT NULL OR NEW.card_products <> '{}')
    EXECUTE FUNCTION record_member_change();
CREATE TRIGGER members_history_update AFTER UPDATE OF tier, card_products ON members
    FOR EACH ROW
    WHEN (OLD.tier IS DISTINCT FROM NEW.tier OR OLD.card_products IS DISTINCT FROM NEW.card_products)
    EXECUTE FUNCTION record_member_change();

-- Imports: the line each member was last imported from (a hash of what it said, and of its
-- opening lots: posted once, never again).
CREATE TABLE member_imports (
    tenant_id text NOT NULL,
    member_id text NOT NULL,
    job_id text NOT NULL,
    line bigint NOT NULL,
    digest bytea NOT NULL,
    lots_digest bytea NOT NULL,
    imported_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, member_id)
);

-- Referral links carried over from another system: settled there, never paid here.
ALTER TABLE referrals DROP CONSTRAINT referrals_attached_by_check;
ALTER TABLE referrals ADD CONSTRAINT referrals_attached_by_check
    CHECK (attached_by IN ('member', 'admin', 'import'));
ALTER TABLE referrals DROP CONSTRAINT referrals_status_check;
ALTER TABLE referrals ADD CONSTRAINT referrals_status_check
    CHECK (status IN ('pending', 'rewarded', 'refused', 'clawed_back', 'imported'));

-- Grants: points (and/or an offer claimed) for each member of an audience, once each.
CREATE TABLE grants (
    tenant_id text NOT NULL,
    grant_id text NOT NULL,
    job_id text NOT NULL,
    body_hash bytea NOT NULL,
    audience jsonb NOT NULL,
    points bigint CHECK (points > 0),
    expires_at timestamptz,
    offer_id text,
    reason text NOT NULL,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, grant_id)
);
CREATE TABLE grant_members (
    tenant_id text NOT NULL,
    grant_id text NOT NULL,
    member_id text NOT NULL,
    points bigint NOT NULL,
    offer_claimed boolean NOT NULL,
    granted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, grant_id, member_id)
);
CREATE INDEX grant_members_member ON grant_members (tenant_id, member_id);

-- Erasure covers the new tables: memberships and import records dropped, grants kept under
-- the pseudonym.
CREATE OR REPLACE FUNCTION erase_member(p_tenant text, p_old text, p_new text) RETURNS boolean
    LANGUAGE plpgsql
    AS $$
BEGIN
    -- The pseudonymous member: balances kept, attributes and referral codes dropped.
    INSERT INTO members (tenant_id, member_id, tier, card_products, created_at, updated_at,
                         points_balance, lifetime_earned, status)
    SELECT tenant_id, p_new, NULL, '{}', created_at, now(), points_balance, lifetime_earned,
           status
    FROM members WHERE tenant_id = p_tenant AND member_id = p_old;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM set_config('rewards.erasing', 'on', true);
    UPDATE referrals SET referee_id = p_new WHERE tenant_id = p_tenant AND referee_id = p_old;
    UPDATE referrals SET referrer_id = p_new WHERE tenant_id = p_tenant AND referrer_id = p_old;
    UPDATE transfers SET member_id = p_new WHERE tenant_id = p_tenant AND member_id = p_old;
    UPDATE transfers SET debit_account = 'member:' || p_new
    WHERE tenant_id = p_tenant AND debit_account = 'member:' || p_old;
    UPDATE transfers SET credit_account = 'member:' || p_new
    WHERE tenant_id = p_tenant AND credit_account = 'member:' || p_old;
    UPDATE transfers SET detail = json_renamed(detail, p_old, p_new)
    WHERE tenant_id = p_tenant AND strpos(detail::text, to_jsonb(p_old)::text) > 0;
    UPDATE transactions
    SET member_id = p_new, body = json_renamed(body, p_old, p_new),
        answer = bytes_renamed(answer, p_old, p_new)
    WHERE tenant_id = p_tenant AND member_id = p_old;
    UPDATE lots SET member_id = p_new WHERE tenant_id = p_tenant AND member_id = p_old;
    UPDATE draws SET member_id = p_new WHERE tenant_id = p_tenant AND member_id = p_old;
    UPDATE rule_usage SET member_id = p_new WHERE tenant_id = p_tenant AND member_id = p_old;
    UPDATE member_day_points SET member_id = p_new
    WHERE tenant_id = p_tenant AND member_id = p_old;
    UPDATE member_spend SET member_id = p_new WHERE tenant_id = p_tenant AND member_id = p_old;
    UPDATE offer_members SET member_id = p_new WHERE tenant_id = p_tenant AND member_id = p_old;
    UPDATE offer_redemptions SET member_id = p_new
    WHERE tenant_id = p_tenant AND member_id = p_old;
    UPDATE redemptions SET member_id = p_new WHERE tenant_id = p_tenant AND member_id = p_old;
    UPDATE expiry_notices SET member_id = p_new WHERE tenant_id = p_tenant AND member_id = p_old;
    UPDATE risk_events SET member_id = p_new, detail = json_renamed(detail, p_old, p_new), device = NULL
    WHERE tenant_id = p_tenant AND member_id = p_old;
    UPDATE risk_events SET detail = json_renamed(detail, p_old, p_new)
    WHERE tenant_id = p_tenant AND strpos(detail::text, to_jsonb(p_old)::text) > 0;
    UPDATE outbox_events SET member_id = p_new, data = json_renamed(data, p_old, p_new)
    WHERE tenant_id = p_tenant AND member_id = p_old;
    UPDATE outbox_events SET data = json_renamed(data, p_old, p_new)
    WHERE tenant_id = p_tenant AND strpos(data::text, to_jsonb(p_old)::text) > 0;
    UPDATE audit_log
    SET entity_id = CASE WHEN entity_id = p_old THEN p_new ELSE entity_id END,
        before = json_renamed(before, p_old, p_new), after = json_renamed(after, p_old, p_new)
    WHERE tenant_id = p_tenant
      AND (entity_id = p_old OR strpos(before::text, to_jsonb(p_old)::text) > 0
           OR strpos(after::text, to_jsonb(p_old)::text) > 0);
    -- Devices, attributes over time and the app's stored answers are dropped.
    UPDATE devices d SET members = greatest(d.members - 1, 0)
    FROM device_members m
    WHERE m.tenant_id = p_tenant AND m.member_id = p_old
      AND d.tenant_id = m.tenant_id AND d.device = m.device;
    DELETE FROM device_members WHERE tenant_id = p_tenant AND member_id = p_old;
    DELETE FROM member_changes WHERE tenant_id = p_tenant AND member_id = p_old;
    DELETE FROM segment_members WHERE tenant_id = p_tenant AND member_id = p_old;
    DELETE FROM member_imports WHERE tenant_id = p_tenant AND member_id = p_old;
    UPDATE grant_members SET member_id = p_new WHERE tenant_id = p_tenant AND member_id = p_old;
    UPDATE job_errors
    SET item_id = CASE WHEN item_id = p_old THEN p_new ELSE item_id END,
        problem = replace(problem, p_old, p_new)
    WHERE tenant_id = p_tenant AND (item_id = p_old OR strpos(problem, p_old) > 0);
    DELETE FROM idempotency_keys
    WHERE tenant_id = p_tenant AND (strpos(scope, p_old) > 0
                                    OR strpos(response::text, to_jsonb(p_old)::text) > 0);
    DELETE FROM members WHERE tenant_id = p_tenant AND member_id = p_old;
    PERFORM set_config('rewards.erasing', 'off', true);
    RETURN true;
END;
$$;

-- Members made in bulk (an import makes thousands a statement) record their first
-- attributes once a statement, not once a row.
DROP TRIGGER members_history_insert ON members;
CREATE FUNCTION record_member_changes_added() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    INSERT INTO member_changes (tenant_id, member_id, tier, segments, card_products)
    SELECT tenant_id, member_id, tier, '{}', card_products FROM added
    WHERE tier IS NOT NULL OR card_products <> '{}';
    RETURN NULL;
END;
$$;
CREATE TRIGGER members_history_insert AFTER INSERT ON members
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION record_member_changes_added();
