-- A member's personal data erased: the member id replaced by a keyed pseudonym everywhere
-- it is written (as a column, an account, or a JSON string value in a body, an answer, an
-- event, a risk event, an audit entry), devices and attributes dropped. The ledger keeps
-- every transfer under the pseudonym, so its totals stay and reconcile.

-- Transfers stay immutable, but for the erasure's rename of a member's id: the same
-- amounts, kinds, transactions and times, only the member named otherwise.
CREATE OR REPLACE FUNCTION transfers_are_immutable() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND current_setting('rewards.erasing', true) = 'on'
       AND NEW.tenant_id = OLD.tenant_id AND NEW.transfer_id = OLD.transfer_id
       AND NEW.amount = OLD.amount AND NEW.kind = OLD.kind
       AND NEW.transaction_id IS NOT DISTINCT FROM OLD.transaction_id
       AND NEW.created_at = OLD.created_at THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'ledger transfers are immutable: correct them with a new transfer'
        USING ERRCODE = 'restrict_violation';
END $$;

CREATE FUNCTION json_renamed(document jsonb, old text, new text) RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT replace(replace(document::text, to_jsonb(old)::text, to_jsonb(new)::text),
                   to_jsonb('member:' || old)::text, to_jsonb('member:' || new)::text)::jsonb
$$;

CREATE FUNCTION bytes_renamed(document bytea, old text, new text) RETURNS bytea
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT convert_to(replace(convert_from(document, 'UTF8'), to_jsonb(old)::text,
                              to_jsonb(new)::text), 'UTF8')
$$;

CREATE FUNCTION erase_member(p_tenant text, p_old text, p_new text) RETURNS boolean
    LANGUAGE plpgsql
    AS $$
BEGIN
    -- The pseudonymous member: balances kept, attributes and referral codes dropped.
    INSERT INTO members (tenant_id, member_id, tier, segments, card_products, created_at,
                         updated_at, points_balance, lifetime_earned)
    SELECT tenant_id, p_new, NULL, '{}', '{}', created_at, now(), points_balance,
           lifetime_earned
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
    DELETE FROM idempotency_keys
    WHERE tenant_id = p_tenant AND (strpos(scope, p_old) > 0
                                    OR strpos(response::text, to_jsonb(p_old)::text) > 0);
    DELETE FROM members WHERE tenant_id = p_tenant AND member_id = p_old;
    PERFORM set_config('rewards.erasing', 'off', true);
    RETURN true;
END;
$$;
