-- Controls a bank's risk office asks for: exclusion lists (purchases at cash-out merchants
-- earn nothing), points held on a fraud score until an operator decides, and changes that
-- wait for a second admin key.

-- Exclusion lists. A list's entries are those of its current generation; a replace loads a
-- new generation beside it and switches at once (as segments do). The tenant's
-- exclusions_version moves with every change, so that each serving process reloads the
-- entries it matches purchases against only when they changed.
ALTER TABLE tenants ADD COLUMN exclusions_version bigint NOT NULL DEFAULT 0;
CREATE SEQUENCE exclusion_generations_seq;
CREATE TABLE exclusion_lists (
    tenant_id text NOT NULL,
    list_id text NOT NULL,
    name text NOT NULL,
    match text NOT NULL
        CHECK (match IN ('merchant_id', 'merchant_name_contains', 'acquirer_id')),
    generation bigint NOT NULL DEFAULT nextval('exclusion_generations_seq'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, list_id)
);
CREATE TABLE exclusion_entries (
    tenant_id text NOT NULL,
    list_id text NOT NULL,
    generation bigint NOT NULL,
    value text NOT NULL,
    PRIMARY KEY (tenant_id, list_id, generation, value)
);

-- Points held on a risk score: a purchase scored above the program's abuse.hold_above_score
-- earns as usual, but its points go to the `held` account until an operator releases them
-- to the member or voids them (back to the accounts that paid them). A refund before then
-- claws back from what is held (remaining).
CREATE TABLE holds (
    tenant_id text NOT NULL,
    transaction_id text NOT NULL,
    member_id text NOT NULL,
    points bigint NOT NULL CHECK (points > 0),
    remaining bigint NOT NULL CHECK (remaining >= 0 AND remaining <= points),
    -- What each account paid of the points ({"account": points}): a void gives it back.
    parts jsonb NOT NULL,
    score int NOT NULL,
    source text,
    expires_at timestamptz,
    status text NOT NULL DEFAULT 'held'
        CHECK (status IN ('held', 'released', 'voided', 'refunded')),
    created_at timestamptz NOT NULL DEFAULT now(),
    decided_at timestamptz,
    decided_by text,
    PRIMARY KEY (tenant_id, transaction_id)
);
CREATE INDEX holds_by_status ON holds (tenant_id, status, created_at, transaction_id);

-- Four eyes: a change made with one admin key that the program's approvals cover waits
-- here until a different key approves it (then it is applied, once) or anyone rejects it.
CREATE TABLE approvals (
    tenant_id text NOT NULL,
    approval_id text NOT NULL,
    kind text NOT NULL,
    summary jsonb NOT NULL,
    request jsonb NOT NULL,
    requested_by text NOT NULL,
    requested_key text NOT NULL,
    status text NOT NULL DEFAULT 'pending_approval'
        CHECK (status IN ('pending_approval', 'approved', 'rejected')),
    decided_by text,
    decided_key text,
    decided_at timestamptz,
    result jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, approval_id)
);
CREATE INDEX approvals_by_status ON approvals (tenant_id, status, created_at, approval_id);

-- Erasure reaches the new tables: a hold names its member, a waiting or decided adjustment
-- names it in what was asked and answered.
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
    UPDATE holds SET member_id = p_new WHERE tenant_id = p_tenant AND member_id = p_old;
    UPDATE approvals
    SET summary = json_renamed(summary, p_old, p_new),
        request = json_renamed(request, p_old, p_new),
        result = json_renamed(result, p_old, p_new)
    WHERE tenant_id = p_tenant
      AND (strpos(summary::text, to_jsonb(p_old)::text) > 0
           OR strpos(request::text, to_jsonb(p_old)::text) > 0
           OR strpos(coalesce(result, 'null')::text, to_jsonb(p_old)::text) > 0);
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
