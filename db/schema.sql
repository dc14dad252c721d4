-- The schema that applying every migration in db/migrations/ to an empty database produces
-- (pg_dump --schema-only). Read it to see the tables as they are; change the schema with a
-- new migration, then regenerate this file: `python -m db.schema`.
-- tests/integration/test_migrations.py proves the two agree.
--
-- PostgreSQL database dump
--

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET transaction_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: apply_budget_reservation(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.apply_budget_reservation() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    fits boolean;
BEGIN
    fits := CASE NEW.budget
        WHEN 'rule' THEN reserve_rule_budget(NEW.tenant_id, NEW.key, NEW.amount)
        WHEN 'campaign' THEN reserve_campaign_budget(NEW.tenant_id, NEW.key, NEW.amount)
        WHEN 'offer' THEN reserve_offer_budget(NEW.tenant_id, NEW.key, NEW.amount, NEW.amount2)
        WHEN 'campaign_day' THEN reserve_campaign_day(NEW.tenant_id, NEW.key, NEW.day, NEW.amount)
        WHEN 'stock' THEN reserve_stock(NEW.tenant_id, NEW.key, NEW.amount, NEW.amount2)
    END;
    IF NOT fits THEN
        RAISE EXCEPTION 'the % budget % was taken by a concurrent transaction', NEW.budget, NEW.key
            USING ERRCODE = 'serialization_failure';
    END IF;
    DELETE FROM budget_reservations
    WHERE tenant_id = NEW.tenant_id AND reservation_id = NEW.reservation_id;
    RETURN NULL;
END $$;

--
-- Name: bytes_renamed(bytea, text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.bytes_renamed(document bytea, old text, new text) RETURNS bytea
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT convert_to(replace(convert_from(document, 'UTF8'), to_jsonb(old)::text,
                              to_jsonb(new)::text), 'UTF8')
$$;

--
-- Name: erase_member(text, text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.erase_member(p_tenant text, p_old text, p_new text) RETURNS boolean
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

--
-- Name: haversine_m(double precision, double precision, double precision, double precision); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.haversine_m(lat1 double precision, lng1 double precision, lat2 double precision, lng2 double precision) RETURNS double precision
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN ((((2)::numeric * 6371008.8))::double precision * asin(LEAST((1)::double precision, sqrt(((sin((radians((lat2 - lat1)) / (2)::double precision)) ^ (2)::double precision) + ((cos(radians(lat1)) * cos(radians(lat2))) * (sin((radians((lng2 - lng1)) / (2)::double precision)) ^ (2)::double precision)))))));

--
-- Name: json_renamed(jsonb, text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.json_renamed(document jsonb, old text, new text) RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT replace(replace(document::text, to_jsonb(old)::text, to_jsonb(new)::text),
                   to_jsonb('member:' || old)::text, to_jsonb('member:' || new)::text)::jsonb
$$;

--
-- Name: member_segments(text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.member_segments(p_tenant text, p_member text) RETURNS text[]
    LANGUAGE sql STABLE
    AS $$
    SELECT coalesce(array_agg(sm.segment_id ORDER BY sm.segment_id), '{}')
    FROM segment_members sm
    WHERE sm.tenant_id = p_tenant AND sm.member_id = p_member AND sm.removed_at IS NULL
      AND sm.generation = (SELECT s.generation FROM segments s
                           WHERE s.tenant_id = sm.tenant_id AND s.segment_id = sm.segment_id)
$$;

--
-- Name: merchant_share(bigint, integer); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.merchant_share(reward bigint, pct integer) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT sign(reward)::bigint * ((abs(reward) * pct + 50) / 100)
$$;

--
-- Name: note_changed_offer_stores(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.note_changed_offer_stores() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM note_offer_change(c.tenant_id, array_agg(DISTINCT o.merchant_id))
    FROM changed c JOIN offers o ON o.tenant_id = c.tenant_id AND o.offer_id = c.offer_id
    GROUP BY c.tenant_id;
    RETURN NULL;
END $$;

--
-- Name: note_changed_offers(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.note_changed_offers() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM note_offer_change(n.tenant_id, array_agg(DISTINCT n.merchant_id))
    FROM after_rows n JOIN before_rows o ON o.tenant_id = n.tenant_id AND o.offer_id = n.offer_id
    WHERE o.status IS DISTINCT FROM n.status
       OR o.definition IS DISTINCT FROM n.definition
       OR o.category IS DISTINCT FROM n.category
       OR o.all_stores IS DISTINCT FROM n.all_stores
       OR o.merchant_id IS DISTINCT FROM n.merchant_id
    GROUP BY n.tenant_id;
    RETURN NULL;
END $$;

--
-- Name: note_changed_rows(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.note_changed_rows() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM note_offer_change(tenant_id, array_agg(DISTINCT merchant_id))
    FROM changed GROUP BY tenant_id;
    RETURN NULL;
END $$;

--
-- Name: note_offer_change(text, text[]); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.note_offer_change(tenant text, merchants text[]) RETURNS void
    LANGUAGE sql
    AS $$
    WITH bumped AS (
        INSERT INTO offer_versions AS v (tenant_id, version) VALUES (tenant, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = v.version + 1
        RETURNING v.version
    )
    INSERT INTO offer_changes (tenant_id, version, merchant_id)
    SELECT tenant, bumped.version, m FROM bumped, unnest(merchants) AS m
    ON CONFLICT DO NOTHING;
$$;

--
-- Name: record_member_change(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.record_member_change() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    INSERT INTO member_changes (tenant_id, member_id, tier, segments, card_products, status)
    VALUES (NEW.tenant_id, NEW.member_id, NEW.tier, '{}', NEW.card_products, NEW.status);
    RETURN NULL;
END;
$$;

--
-- Name: record_member_changes_added(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.record_member_changes_added() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    INSERT INTO member_changes (tenant_id, member_id, tier, segments, card_products, status)
    SELECT tenant_id, member_id, tier, '{}', card_products, status FROM added
    WHERE tier IS NOT NULL OR card_products <> '{}' OR status <> 'active';
    RETURN NULL;
END;
$$;

--
-- Name: record_offer_version(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.record_offer_version() RETURNS trigger
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

--
-- Name: reserve_campaign_budget(text, text, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.reserve_campaign_budget(tenant text, campaign text, delta bigint) RETURNS boolean
    LANGUAGE sql
    AS $$
    WITH done AS (
        UPDATE draw_campaigns c SET total_used = greatest(c.total_used + delta, 0)
        WHERE c.tenant_id = tenant AND c.campaign_id = campaign
          AND (delta <= 0
               OR c.definition #>> '{budget,total_points}' IS NULL
               OR c.total_used + delta <= (c.definition #>> '{budget,total_points}')::bigint)
        RETURNING 1
    )
    SELECT count(*) > 0 FROM done;
$$;

--
-- Name: reserve_campaign_day(text, text, date, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.reserve_campaign_day(tenant text, campaign text, on_day date, delta bigint) RETURNS boolean
    LANGUAGE plpgsql
    AS $$
BEGIN
    INSERT INTO draw_daily_usage (tenant_id, campaign_id, day, used)
    VALUES (tenant, campaign, on_day, 0)
    ON CONFLICT (tenant_id, campaign_id, day) DO NOTHING;
    UPDATE draw_daily_usage d SET used = greatest(d.used + delta, 0)
    FROM draw_campaigns c
    WHERE d.tenant_id = tenant AND d.campaign_id = campaign AND d.day = on_day
      AND c.tenant_id = d.tenant_id AND c.campaign_id = d.campaign_id
      AND (delta <= 0
           OR c.definition #>> '{budget,daily_points}' IS NULL
           OR d.used + delta <= (c.definition #>> '{budget,daily_points}')::bigint);
    RETURN FOUND;
END $$;

--
-- Name: reserve_offer_budget(text, text, bigint, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.reserve_offer_budget(tenant text, offer text, uses bigint, reward bigint) RETURNS boolean
    LANGUAGE sql
    AS $$
    WITH done AS (
        UPDATE offers o
        SET redemptions_used = greatest(o.redemptions_used + uses, 0),
            reward_used_minor = greatest(o.reward_used_minor + reward, 0),
            status = CASE
                WHEN o.status NOT IN ('active', 'exhausted') THEN o.status
                WHEN (o.definition #>> '{budget,max_redemptions}')::bigint
                         <= greatest(o.redemptions_used + uses, 0)
                  OR (o.definition #>> '{budget,max_reward_minor}')::bigint
                         <= greatest(o.reward_used_minor + reward, 0) THEN 'exhausted'
                ELSE 'active' END,
            updated_at = now()
        WHERE o.tenant_id = tenant AND o.offer_id = offer
          AND ((uses <= 0 AND reward <= 0)
               OR ((o.definition #>> '{budget,max_redemptions}' IS NULL
                    OR o.redemptions_used + uses
                       <= (o.definition #>> '{budget,max_redemptions}')::bigint)
                   AND (o.definition #>> '{budget,max_reward_minor}' IS NULL
                        OR o.reward_used_minor + reward
                           <= (o.definition #>> '{budget,max_reward_minor}')::bigint)))
        RETURNING 1
    )
    SELECT count(*) > 0 FROM done;
$$;

--
-- Name: reserve_rule_budget(text, text, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.reserve_rule_budget(tenant text, rule text, delta bigint) RETURNS boolean
    LANGUAGE sql
    AS $$
    WITH done AS (
        UPDATE earn_rules r SET budget_used = greatest(r.budget_used + delta, 0)
        WHERE r.tenant_id = tenant AND r.rule_id = rule
          AND (delta <= 0
               OR r.definition #>> '{caps,budget_points}' IS NULL
               OR r.budget_used + delta <= (r.definition #>> '{caps,budget_points}')::bigint)
        RETURNING 1
    )
    SELECT count(*) > 0 FROM done;
$$;

--
-- Name: reserve_stock(text, text, bigint, bigint); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.reserve_stock(tenant text, item text, taken bigint, counted bigint) RETURNS boolean
    LANGUAGE sql
    AS $$
    WITH done AS (
        UPDATE catalog_items i
        SET stock_left = CASE WHEN i.stock_left IS NULL THEN NULL
                              ELSE i.stock_left - taken END,
            redeemed = greatest(i.redeemed + counted, 0)
        WHERE i.tenant_id = tenant AND i.sku = item
          AND (taken <= 0 OR i.stock_left IS NULL OR i.stock_left >= taken)
        RETURNING 1
    )
    SELECT count(*) > 0 FROM done;
$$;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: offer_redemptions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.offer_redemptions (
    tenant_id text NOT NULL,
    offer_id text NOT NULL,
    transaction_id text NOT NULL,
    member_id text NOT NULL,
    original_id text,
    uses integer NOT NULL,
    reward_minor bigint NOT NULL,
    points bigint NOT NULL,
    spend_minor bigint NOT NULL,
    day date NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    merchant_id text NOT NULL,
    store_id text,
    occurred_at timestamp with time zone NOT NULL,
    share_pct smallint DEFAULT 0 NOT NULL,
    fee_per_match bigint DEFAULT 0 NOT NULL,
    merchant_share_minor bigint DEFAULT 0 NOT NULL,
    fee_minor bigint DEFAULT 0 NOT NULL,
    settled date,
    CONSTRAINT offer_redemptions_fee_per_match_check CHECK ((fee_per_match >= 0)),
    CONSTRAINT offer_redemptions_share_pct_check CHECK (((share_pct >= 0) AND (share_pct <= 100)))
);

--
-- Name: statement_line(public.offer_redemptions); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.statement_line(r public.offer_redemptions) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
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

--
-- Name: transfers_are_immutable(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.transfers_are_immutable() RETURNS trigger
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

--
-- Name: api_keys; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.api_keys (
    tenant_id text NOT NULL,
    key_hash bytea NOT NULL,
    role text NOT NULL,
    merchant_id text,
    label text DEFAULT ''::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    revoked_at timestamp with time zone,
    key_id text NOT NULL,
    prefix text DEFAULT ''::text NOT NULL,
    last_used_at timestamp with time zone,
    CONSTRAINT api_keys_check CHECK (((role = 'merchant'::text) = (merchant_id IS NOT NULL))),
    CONSTRAINT api_keys_role_check CHECK ((role = ANY (ARRAY['admin'::text, 'merchant'::text])))
);

--
-- Name: approvals; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.approvals (
    tenant_id text NOT NULL,
    approval_id text NOT NULL,
    kind text NOT NULL,
    summary jsonb NOT NULL,
    request jsonb NOT NULL,
    requested_by text NOT NULL,
    requested_key text NOT NULL,
    status text DEFAULT 'pending_approval'::text NOT NULL,
    decided_by text,
    decided_key text,
    decided_at timestamp with time zone,
    result jsonb,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT approvals_status_check CHECK ((status = ANY (ARRAY['pending_approval'::text, 'approved'::text, 'rejected'::text])))
);

--
-- Name: audit_log; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.audit_log (
    tenant_id text NOT NULL,
    audit_id bigint NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    entity_type text NOT NULL,
    entity_id text NOT NULL,
    before jsonb,
    after jsonb,
    at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: audit_log_audit_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.audit_log ALTER COLUMN audit_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.audit_log_audit_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: budget_reservations; Type: TABLE; Schema: public; Owner: -
--

CREATE UNLOGGED TABLE public.budget_reservations (
    tenant_id text CONSTRAINT budget_claims_tenant_id_not_null NOT NULL,
    reservation_id bigint CONSTRAINT budget_claims_claim_id_not_null NOT NULL,
    budget text CONSTRAINT budget_claims_budget_not_null NOT NULL,
    key text CONSTRAINT budget_claims_key_not_null NOT NULL,
    day date,
    amount bigint CONSTRAINT budget_claims_delta_not_null NOT NULL,
    amount2 bigint DEFAULT 0 CONSTRAINT budget_claims_delta2_not_null NOT NULL,
    CONSTRAINT budget_reservations_budget_check CHECK ((budget = ANY (ARRAY['rule'::text, 'campaign'::text, 'offer'::text, 'campaign_day'::text, 'stock'::text])))
);

--
-- Name: budget_reservations_reservation_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.budget_reservations ALTER COLUMN reservation_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.budget_reservations_reservation_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: catalog_codes; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.catalog_codes (
    tenant_id text NOT NULL,
    sku text NOT NULL,
    code_id bigint NOT NULL,
    code text NOT NULL,
    status text DEFAULT 'available'::text NOT NULL,
    redemption_id text,
    CONSTRAINT catalog_codes_status_check CHECK ((status = ANY (ARRAY['available'::text, 'issued'::text, 'void'::text])))
);

--
-- Name: catalog_codes_code_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.catalog_codes ALTER COLUMN code_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.catalog_codes_code_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: catalog_items; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.catalog_items (
    tenant_id text NOT NULL,
    sku text NOT NULL,
    definition jsonb NOT NULL,
    category text NOT NULL,
    points_price bigint NOT NULL,
    cash_price_minor bigint NOT NULL,
    stock_left bigint,
    redeemed bigint DEFAULT 0 NOT NULL,
    active boolean DEFAULT true NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT catalog_items_cash_price_minor_check CHECK ((cash_price_minor >= 0)),
    CONSTRAINT catalog_items_points_price_check CHECK ((points_price >= 0)),
    CONSTRAINT catalog_items_redeemed_check CHECK ((redeemed >= 0)),
    CONSTRAINT catalog_items_stock_left_check CHECK ((stock_left >= 0))
);

--
-- Name: config_history; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.config_history (
    tenant_id text NOT NULL,
    change_id bigint NOT NULL,
    kind text NOT NULL,
    object_id text NOT NULL,
    version bigint,
    valid_from timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    document jsonb,
    CONSTRAINT config_history_kind_check CHECK ((kind = ANY (ARRAY['program'::text, 'earn_rule'::text, 'draw_campaign'::text, 'offer'::text])))
);

--
-- Name: config_history_change_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.config_history_change_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

--
-- Name: config_history_change_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.config_history_change_id_seq OWNED BY public.config_history.change_id;

--
-- Name: device_members; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.device_members (
    tenant_id text NOT NULL,
    device bytea NOT NULL,
    member_id text NOT NULL,
    seq integer NOT NULL,
    first_seen timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT device_members_seq_check CHECK ((seq >= 1))
);

--
-- Name: devices; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.devices (
    tenant_id text NOT NULL,
    device bytea NOT NULL,
    members integer DEFAULT 0 NOT NULL,
    first_seen timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT devices_members_check CHECK ((members >= 0))
);

--
-- Name: draw_campaigns; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.draw_campaigns (
    tenant_id text NOT NULL,
    campaign_id text NOT NULL,
    definition jsonb NOT NULL,
    secret bytea NOT NULL,
    commitment text NOT NULL,
    starts_at timestamp with time zone,
    ends_at timestamp with time zone,
    total_used bigint DEFAULT 0 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT draw_campaigns_secret_check CHECK ((length(secret) = 32)),
    CONSTRAINT draw_campaigns_total_used_check CHECK ((total_used >= 0))
);

--
-- Name: draw_daily_usage; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.draw_daily_usage (
    tenant_id text NOT NULL,
    campaign_id text NOT NULL,
    day date NOT NULL,
    used bigint NOT NULL,
    CONSTRAINT draw_daily_usage_used_check CHECK ((used >= 0))
);

--
-- Name: draws; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.draws (
    tenant_id text NOT NULL,
    campaign_id text NOT NULL,
    transaction_id text NOT NULL,
    member_id text NOT NULL,
    drawn integer NOT NULL,
    paid integer NOT NULL,
    points bigint NOT NULL,
    proof text NOT NULL,
    day date NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: earn_rules; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.earn_rules (
    tenant_id text NOT NULL,
    rule_id text NOT NULL,
    definition jsonb NOT NULL,
    active boolean NOT NULL,
    budget_used bigint DEFAULT 0 NOT NULL,
    deleted boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT earn_rules_budget_used_check CHECK ((budget_used >= 0))
);

--
-- Name: exclusion_entries; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.exclusion_entries (
    tenant_id text NOT NULL,
    list_id text NOT NULL,
    generation bigint NOT NULL,
    value text NOT NULL
);

--
-- Name: exclusion_generations_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.exclusion_generations_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

--
-- Name: exclusion_lists; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.exclusion_lists (
    tenant_id text NOT NULL,
    list_id text NOT NULL,
    name text NOT NULL,
    match text NOT NULL,
    generation bigint DEFAULT nextval('public.exclusion_generations_seq'::regclass) NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT exclusion_lists_match_check CHECK ((match = ANY (ARRAY['merchant_id'::text, 'merchant_name_contains'::text, 'acquirer_id'::text])))
);

--
-- Name: expiry_notices; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.expiry_notices (
    tenant_id text NOT NULL,
    member_id text NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    points bigint NOT NULL,
    noticed_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: grant_members; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.grant_members (
    tenant_id text NOT NULL,
    grant_id text NOT NULL,
    member_id text NOT NULL,
    points bigint NOT NULL,
    offer_claimed boolean NOT NULL,
    granted_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: grants; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.grants (
    tenant_id text NOT NULL,
    grant_id text NOT NULL,
    job_id text NOT NULL,
    body_hash bytea NOT NULL,
    audience jsonb NOT NULL,
    points bigint,
    expires_at timestamp with time zone,
    offer_id text,
    reason text NOT NULL,
    created_by text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT grants_points_check CHECK ((points > 0))
);

--
-- Name: holds; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.holds (
    tenant_id text NOT NULL,
    transaction_id text NOT NULL,
    member_id text NOT NULL,
    points bigint NOT NULL,
    remaining bigint NOT NULL,
    parts jsonb NOT NULL,
    score integer NOT NULL,
    source text,
    expires_at timestamp with time zone,
    status text DEFAULT 'held'::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    decided_at timestamp with time zone,
    decided_by text,
    CONSTRAINT holds_check CHECK (((remaining >= 0) AND (remaining <= points))),
    CONSTRAINT holds_points_check CHECK ((points > 0)),
    CONSTRAINT holds_status_check CHECK ((status = ANY (ARRAY['held'::text, 'released'::text, 'voided'::text, 'refunded'::text])))
);

--
-- Name: idempotency_keys; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.idempotency_keys (
    tenant_id text NOT NULL,
    scope text NOT NULL,
    key text NOT NULL,
    request_hash bytea NOT NULL,
    status integer,
    response jsonb,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: job_errors; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.job_errors (
    tenant_id text NOT NULL,
    job_id text NOT NULL,
    line bigint NOT NULL,
    item_id text,
    problem text NOT NULL
);

--
-- Name: job_lines; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.job_lines (
    tenant_id text NOT NULL,
    job_id text NOT NULL,
    line bigint NOT NULL,
    body bytea
);

--
-- Name: jobs; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.jobs (
    tenant_id text NOT NULL,
    job_id text NOT NULL,
    kind text NOT NULL,
    status text DEFAULT 'queued'::text NOT NULL,
    params jsonb NOT NULL,
    progress_done bigint DEFAULT 0 NOT NULL,
    progress_total bigint,
    counts jsonb DEFAULT '{}'::jsonb NOT NULL,
    result bytea,
    error text,
    checkpoint jsonb,
    attempts integer DEFAULT 0 NOT NULL,
    lease_until timestamp with time zone,
    worker text,
    created_by text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    started_at timestamp with time zone,
    finished_at timestamp with time zone,
    CONSTRAINT jobs_status_check CHECK ((status = ANY (ARRAY['queued'::text, 'running'::text, 'done'::text, 'failed'::text, 'cancelled'::text])))
);

--
-- Name: lots; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.lots (
    tenant_id text NOT NULL,
    lot_id bigint NOT NULL,
    member_id text NOT NULL,
    transaction_id text,
    amount bigint NOT NULL,
    remaining bigint NOT NULL,
    earned_at timestamp with time zone NOT NULL,
    available_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone,
    CONSTRAINT lots_amount_check CHECK ((amount > 0)),
    CONSTRAINT lots_check CHECK (((remaining >= 0) AND (remaining <= amount)))
);

--
-- Name: lots_lot_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.lots ALTER COLUMN lot_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.lots_lot_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: member_changes; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.member_changes (
    tenant_id text NOT NULL,
    member_id text NOT NULL,
    change_id bigint NOT NULL,
    changed_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    tier text,
    segments text[] NOT NULL,
    card_products text[] NOT NULL,
    status text DEFAULT 'active'::text NOT NULL
);

--
-- Name: member_changes_change_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.member_changes_change_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

--
-- Name: member_changes_change_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.member_changes_change_id_seq OWNED BY public.member_changes.change_id;

--
-- Name: member_day_points; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.member_day_points (
    tenant_id text NOT NULL,
    member_id text NOT NULL,
    day date NOT NULL,
    points bigint NOT NULL,
    CONSTRAINT member_day_points_points_check CHECK ((points >= 0))
);

--
-- Name: member_imports; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.member_imports (
    tenant_id text NOT NULL,
    member_id text NOT NULL,
    job_id text NOT NULL,
    line bigint NOT NULL,
    digest bytea NOT NULL,
    lots_digest bytea NOT NULL,
    imported_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: member_spend; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.member_spend (
    tenant_id text NOT NULL,
    member_id text NOT NULL,
    month date NOT NULL,
    spend_minor bigint NOT NULL
);

--
-- Name: members; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.members (
    tenant_id text NOT NULL,
    member_id text NOT NULL,
    tier text,
    card_products text[] DEFAULT '{}'::text[] NOT NULL,
    referral_code_used text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    points_balance bigint DEFAULT 0 NOT NULL,
    lifetime_earned bigint DEFAULT 0 NOT NULL,
    referral_code text,
    status text DEFAULT 'active'::text NOT NULL,
    opening_spend_minor bigint DEFAULT 0 NOT NULL,
    opening_spend_month date,
    CONSTRAINT members_opening_spend_minor_check CHECK ((opening_spend_minor >= 0)),
    CONSTRAINT members_status_check CHECK ((status = ANY (ARRAY['active'::text, 'suspended'::text, 'closed'::text])))
);

--
-- Name: merchants; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.merchants (
    tenant_id text NOT NULL,
    merchant_id text NOT NULL,
    name text NOT NULL,
    category text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: offer_changes; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.offer_changes (
    tenant_id text NOT NULL,
    version bigint NOT NULL,
    merchant_id text NOT NULL,
    changed_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: offer_members; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.offer_members (
    tenant_id text NOT NULL,
    member_id text NOT NULL,
    offer_id text NOT NULL,
    claimed_at timestamp with time zone,
    uses integer DEFAULT 0 NOT NULL,
    CONSTRAINT offer_members_uses_check CHECK ((uses >= 0))
);

--
-- Name: offer_stores; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.offer_stores (
    tenant_id text NOT NULL,
    store_id text NOT NULL,
    offer_id text NOT NULL
);

--
-- Name: offer_versions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.offer_versions (
    tenant_id text NOT NULL,
    version bigint NOT NULL,
    pruned_below bigint DEFAULT 0 NOT NULL
);

--
-- Name: offers; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.offers (
    tenant_id text NOT NULL,
    offer_id text NOT NULL,
    merchant_id text NOT NULL,
    definition jsonb NOT NULL,
    category text NOT NULL,
    status text NOT NULL,
    all_stores boolean NOT NULL,
    redemptions_used bigint DEFAULT 0 NOT NULL,
    reward_used_minor bigint DEFAULT 0 NOT NULL,
    reject_reason text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT offers_redemptions_used_check CHECK ((redemptions_used >= 0)),
    CONSTRAINT offers_reward_used_minor_check CHECK ((reward_used_minor >= 0)),
    CONSTRAINT offers_status_check CHECK ((status = ANY (ARRAY['pending_review'::text, 'active'::text, 'paused'::text, 'exhausted'::text, 'rejected'::text])))
);

--
-- Name: outbox_sequence; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.outbox_sequence
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

--
-- Name: outbox_events; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.outbox_events (
    tenant_id text NOT NULL,
    sequence bigint DEFAULT nextval('public.outbox_sequence'::regclass) NOT NULL,
    type text NOT NULL,
    member_id text,
    transaction_id text,
    data jsonb,
    occurred_at timestamp with time zone DEFAULT now() NOT NULL,
    status text DEFAULT 'pending'::text NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    next_attempt_at timestamp with time zone DEFAULT now() NOT NULL,
    give_up_at timestamp with time zone DEFAULT (now() + '72:00:00'::interval) NOT NULL,
    last_error text,
    delivered_at timestamp with time zone,
    CONSTRAINT outbox_events_check CHECK (((data IS NOT NULL) OR (transaction_id IS NOT NULL))),
    CONSTRAINT outbox_events_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'delivered'::text, 'failed'::text])))
);

--
-- Name: transfers; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.transfers (
    tenant_id text NOT NULL,
    transfer_id bigint NOT NULL,
    debit_account text NOT NULL,
    credit_account text NOT NULL,
    amount bigint NOT NULL,
    kind text NOT NULL,
    member_id text NOT NULL,
    transaction_id text,
    detail jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT transfers_amount_check CHECK ((amount > 0)),
    CONSTRAINT transfers_check CHECK ((debit_account <> credit_account))
);

--
-- Name: postings; Type: VIEW; Schema: public; Owner: -
--

CREATE VIEW public.postings AS
 SELECT transfers.tenant_id,
    transfers.transfer_id,
    transfers.credit_account AS account_id,
    transfers.amount
   FROM public.transfers
UNION ALL
 SELECT transfers.tenant_id,
    transfers.transfer_id,
    transfers.debit_account AS account_id,
    (- transfers.amount) AS amount
   FROM public.transfers;

--
-- Name: programs; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.programs (
    tenant_id text NOT NULL,
    config jsonb NOT NULL,
    rules_version bigint DEFAULT 1 NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: redemptions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.redemptions (
    tenant_id text NOT NULL,
    redemption_id text NOT NULL,
    member_id text NOT NULL,
    sku text NOT NULL,
    quantity integer NOT NULL,
    points_spent bigint NOT NULL,
    cash_due_minor bigint NOT NULL,
    codes text[] NOT NULL,
    lots_taken jsonb NOT NULL,
    status text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    cancel_until timestamp with time zone,
    cancelled_at timestamp with time zone,
    device bytea,
    CONSTRAINT redemptions_cash_due_minor_check CHECK ((cash_due_minor >= 0)),
    CONSTRAINT redemptions_points_spent_check CHECK ((points_spent >= 0)),
    CONSTRAINT redemptions_quantity_check CHECK ((quantity > 0)),
    CONSTRAINT redemptions_status_check CHECK ((status = ANY (ARRAY['completed'::text, 'cancelled'::text])))
);

--
-- Name: referrals; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.referrals (
    tenant_id text NOT NULL,
    referee_id text NOT NULL,
    referrer_id text NOT NULL,
    attached_by text NOT NULL,
    attached_at timestamp with time zone DEFAULT now() NOT NULL,
    status text DEFAULT 'pending'::text NOT NULL,
    reason text,
    transaction_id text,
    referee_points bigint DEFAULT 0 NOT NULL,
    referrer_points bigint DEFAULT 0 NOT NULL,
    settled_at timestamp with time zone,
    CONSTRAINT referrals_attached_by_check CHECK ((attached_by = ANY (ARRAY['member'::text, 'admin'::text, 'import'::text]))),
    CONSTRAINT referrals_check CHECK ((referee_id <> referrer_id)),
    CONSTRAINT referrals_referee_points_check CHECK ((referee_points >= 0)),
    CONSTRAINT referrals_referrer_points_check CHECK ((referrer_points >= 0)),
    CONSTRAINT referrals_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'rewarded'::text, 'refused'::text, 'clawed_back'::text, 'imported'::text])))
);

--
-- Name: replay_transactions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.replay_transactions (
    tenant_id text NOT NULL,
    job_id text NOT NULL,
    transaction_id text NOT NULL,
    baseline bytea,
    draft bytea
);

--
-- Name: risk_events; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.risk_events (
    tenant_id text NOT NULL,
    event_id bigint NOT NULL,
    member_id text NOT NULL,
    device bytea,
    reason text NOT NULL,
    detail jsonb DEFAULT '{}'::jsonb NOT NULL,
    occurred_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: risk_events_event_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.risk_events ALTER COLUMN event_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.risk_events_event_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: rule_usage; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.rule_usage (
    tenant_id text NOT NULL,
    rule_id text NOT NULL,
    member_id text NOT NULL,
    period text NOT NULL,
    points bigint NOT NULL,
    CONSTRAINT rule_usage_points_check CHECK ((points >= 0))
);

--
-- Name: schema_migrations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.schema_migrations (
    version integer NOT NULL,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: segment_generations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.segment_generations (
    tenant_id text NOT NULL,
    segment_id text NOT NULL,
    generation bigint NOT NULL,
    active_from timestamp with time zone,
    active_to timestamp with time zone
);

--
-- Name: segment_generations_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.segment_generations_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

--
-- Name: segment_members; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.segment_members (
    tenant_id text NOT NULL,
    segment_id text NOT NULL,
    generation bigint NOT NULL,
    member_id text NOT NULL,
    added_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    removed_at timestamp with time zone
);

--
-- Name: segments; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.segments (
    tenant_id text NOT NULL,
    segment_id text NOT NULL,
    name text NOT NULL,
    description text DEFAULT ''::text NOT NULL,
    generation bigint DEFAULT nextval('public.segment_generations_seq'::regclass) NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: settlement_periods; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.settlement_periods (
    tenant_id text NOT NULL,
    period date NOT NULL,
    status text NOT NULL,
    job_id text NOT NULL,
    closed_at timestamp with time zone,
    CONSTRAINT settlement_periods_status_check CHECK ((status = ANY (ARRAY['closing'::text, 'closed'::text])))
);

--
-- Name: sign_in_failures; Type: TABLE; Schema: public; Owner: -
--

CREATE UNLOGGED TABLE public.sign_in_failures (
    tenant_id text NOT NULL,
    client text NOT NULL,
    minute timestamp with time zone NOT NULL,
    failures integer NOT NULL
);

--
-- Name: statements; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.statements (
    tenant_id text NOT NULL,
    period date NOT NULL,
    merchant_id text NOT NULL,
    lines bigint NOT NULL,
    reward_minor bigint NOT NULL,
    merchant_due_minor bigint NOT NULL,
    program_due_minor bigint NOT NULL,
    fees_minor bigint NOT NULL,
    sha256 text NOT NULL,
    closed_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: stores; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.stores (
    tenant_id text NOT NULL,
    store_id text NOT NULL,
    merchant_id text NOT NULL,
    name text NOT NULL,
    address text DEFAULT ''::text NOT NULL,
    lat double precision NOT NULL,
    lng double precision NOT NULL,
    h3_r6 bigint NOT NULL,
    h3_r7 bigint NOT NULL,
    h3_r8 bigint NOT NULL,
    h3_r9 bigint NOT NULL,
    h3_r10 bigint NOT NULL,
    deleted boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT stores_lat_check CHECK (((lat >= ('-90'::integer)::double precision) AND (lat <= (90)::double precision))),
    CONSTRAINT stores_lng_check CHECK (((lng >= ('-180'::integer)::double precision) AND (lng <= (180)::double precision)))
);

--
-- Name: tenant_secrets; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.tenant_secrets (
    tenant_id text NOT NULL,
    kind text NOT NULL,
    secret text NOT NULL,
    created_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    valid_until timestamp with time zone,
    CONSTRAINT tenant_secrets_kind_check CHECK ((kind = ANY (ARRAY['hook'::text, 'member'::text, 'event'::text])))
);

--
-- Name: tenants; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.tenants (
    tenant_id text NOT NULL,
    name text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    device_key bytea DEFAULT sha256(convert_to((((gen_random_uuid())::text || (gen_random_uuid())::text) || (clock_timestamp())::text), 'UTF8'::name)) NOT NULL,
    exclusions_version bigint DEFAULT 0 NOT NULL
);

--
-- Name: transaction_batches; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.transaction_batches
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

--
-- Name: transactions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.transactions (
    tenant_id text NOT NULL,
    transaction_id text NOT NULL,
    body_hash bytea NOT NULL,
    kind text NOT NULL,
    member_id text NOT NULL,
    original_id text,
    amount_minor bigint NOT NULL,
    currency text NOT NULL,
    occurred_at timestamp with time zone NOT NULL,
    body jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    refunded_minor bigint DEFAULT 0 NOT NULL,
    reversed boolean DEFAULT false NOT NULL,
    answer bytea NOT NULL,
    seq bigint NOT NULL,
    recorded_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    config_version bigint,
    CONSTRAINT transactions_amount_minor_check CHECK ((amount_minor >= 0)),
    CONSTRAINT transactions_check CHECK ((refunded_minor <= amount_minor)),
    CONSTRAINT transactions_kind_check CHECK ((kind = ANY (ARRAY['purchase'::text, 'refund'::text, 'reversal'::text]))),
    CONSTRAINT transactions_refunded_minor_check CHECK ((refunded_minor >= 0))
);

--
-- Name: transfers_transfer_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.transfers ALTER COLUMN transfer_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.transfers_transfer_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: web_sessions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.web_sessions (
    tenant_id text NOT NULL,
    session_hash bytea NOT NULL,
    key_hash bytea NOT NULL,
    csrf_token text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL
);

--
-- Name: config_history change_id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.config_history ALTER COLUMN change_id SET DEFAULT nextval('public.config_history_change_id_seq'::regclass);

--
-- Name: member_changes change_id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.member_changes ALTER COLUMN change_id SET DEFAULT nextval('public.member_changes_change_id_seq'::regclass);

--
-- Name: api_keys api_keys_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_pkey PRIMARY KEY (tenant_id, key_hash);

--
-- Name: approvals approvals_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.approvals
    ADD CONSTRAINT approvals_pkey PRIMARY KEY (tenant_id, approval_id);

--
-- Name: audit_log audit_log_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_log
    ADD CONSTRAINT audit_log_pkey PRIMARY KEY (tenant_id, audit_id);

--
-- Name: budget_reservations budget_reservations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.budget_reservations
    ADD CONSTRAINT budget_reservations_pkey PRIMARY KEY (tenant_id, reservation_id);

--
-- Name: catalog_codes catalog_codes_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.catalog_codes
    ADD CONSTRAINT catalog_codes_pkey PRIMARY KEY (tenant_id, code_id);

--
-- Name: catalog_codes catalog_codes_tenant_id_sku_code_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.catalog_codes
    ADD CONSTRAINT catalog_codes_tenant_id_sku_code_key UNIQUE (tenant_id, sku, code);

--
-- Name: catalog_items catalog_items_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.catalog_items
    ADD CONSTRAINT catalog_items_pkey PRIMARY KEY (tenant_id, sku);

--
-- Name: config_history config_history_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.config_history
    ADD CONSTRAINT config_history_pkey PRIMARY KEY (tenant_id, kind, object_id, change_id);

--
-- Name: device_members device_members_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.device_members
    ADD CONSTRAINT device_members_pkey PRIMARY KEY (tenant_id, device, member_id);

--
-- Name: device_members device_members_tenant_id_device_seq_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.device_members
    ADD CONSTRAINT device_members_tenant_id_device_seq_key UNIQUE (tenant_id, device, seq);

--
-- Name: devices devices_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.devices
    ADD CONSTRAINT devices_pkey PRIMARY KEY (tenant_id, device);

--
-- Name: draw_campaigns draw_campaigns_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.draw_campaigns
    ADD CONSTRAINT draw_campaigns_pkey PRIMARY KEY (tenant_id, campaign_id);

--
-- Name: draw_daily_usage draw_daily_usage_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.draw_daily_usage
    ADD CONSTRAINT draw_daily_usage_pkey PRIMARY KEY (tenant_id, campaign_id, day);

--
-- Name: draws draws_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.draws
    ADD CONSTRAINT draws_pkey PRIMARY KEY (tenant_id, campaign_id, transaction_id);

--
-- Name: earn_rules earn_rules_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.earn_rules
    ADD CONSTRAINT earn_rules_pkey PRIMARY KEY (tenant_id, rule_id);

--
-- Name: exclusion_entries exclusion_entries_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.exclusion_entries
    ADD CONSTRAINT exclusion_entries_pkey PRIMARY KEY (tenant_id, list_id, generation, value);

--
-- Name: exclusion_lists exclusion_lists_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.exclusion_lists
    ADD CONSTRAINT exclusion_lists_pkey PRIMARY KEY (tenant_id, list_id);

--
-- Name: expiry_notices expiry_notices_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.expiry_notices
    ADD CONSTRAINT expiry_notices_pkey PRIMARY KEY (tenant_id, member_id, expires_at);

--
-- Name: grant_members grant_members_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.grant_members
    ADD CONSTRAINT grant_members_pkey PRIMARY KEY (tenant_id, grant_id, member_id);

--
-- Name: grants grants_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.grants
    ADD CONSTRAINT grants_pkey PRIMARY KEY (tenant_id, grant_id);

--
-- Name: holds holds_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.holds
    ADD CONSTRAINT holds_pkey PRIMARY KEY (tenant_id, transaction_id);

--
-- Name: idempotency_keys idempotency_keys_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.idempotency_keys
    ADD CONSTRAINT idempotency_keys_pkey PRIMARY KEY (tenant_id, scope, key);

--
-- Name: job_errors job_errors_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.job_errors
    ADD CONSTRAINT job_errors_pkey PRIMARY KEY (tenant_id, job_id, line);

--
-- Name: job_lines job_lines_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.job_lines
    ADD CONSTRAINT job_lines_pkey PRIMARY KEY (tenant_id, job_id, line);

--
-- Name: jobs jobs_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.jobs
    ADD CONSTRAINT jobs_pkey PRIMARY KEY (tenant_id, job_id);

--
-- Name: lots lots_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.lots
    ADD CONSTRAINT lots_pkey PRIMARY KEY (tenant_id, lot_id);

--
-- Name: member_changes member_changes_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.member_changes
    ADD CONSTRAINT member_changes_pkey PRIMARY KEY (tenant_id, member_id, change_id);

--
-- Name: member_day_points member_day_points_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.member_day_points
    ADD CONSTRAINT member_day_points_pkey PRIMARY KEY (tenant_id, member_id, day);

--
-- Name: member_imports member_imports_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.member_imports
    ADD CONSTRAINT member_imports_pkey PRIMARY KEY (tenant_id, member_id);

--
-- Name: member_spend member_spend_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.member_spend
    ADD CONSTRAINT member_spend_pkey PRIMARY KEY (tenant_id, member_id, month);

--
-- Name: members members_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.members
    ADD CONSTRAINT members_pkey PRIMARY KEY (tenant_id, member_id);

--
-- Name: merchants merchants_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.merchants
    ADD CONSTRAINT merchants_pkey PRIMARY KEY (tenant_id, merchant_id);

--
-- Name: offer_changes offer_changes_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.offer_changes
    ADD CONSTRAINT offer_changes_pkey PRIMARY KEY (tenant_id, version, merchant_id);

--
-- Name: offer_members offer_members_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.offer_members
    ADD CONSTRAINT offer_members_pkey PRIMARY KEY (tenant_id, member_id, offer_id);

--
-- Name: offer_redemptions offer_redemptions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.offer_redemptions
    ADD CONSTRAINT offer_redemptions_pkey PRIMARY KEY (tenant_id, offer_id, transaction_id);

--
-- Name: offer_stores offer_stores_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.offer_stores
    ADD CONSTRAINT offer_stores_pkey PRIMARY KEY (tenant_id, store_id, offer_id);

--
-- Name: offer_versions offer_versions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.offer_versions
    ADD CONSTRAINT offer_versions_pkey PRIMARY KEY (tenant_id);

--
-- Name: offers offers_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.offers
    ADD CONSTRAINT offers_pkey PRIMARY KEY (tenant_id, offer_id);

--
-- Name: outbox_events outbox_events_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outbox_events
    ADD CONSTRAINT outbox_events_pkey PRIMARY KEY (tenant_id, sequence);

--
-- Name: programs programs_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.programs
    ADD CONSTRAINT programs_pkey PRIMARY KEY (tenant_id);

--
-- Name: redemptions redemptions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.redemptions
    ADD CONSTRAINT redemptions_pkey PRIMARY KEY (tenant_id, redemption_id);

--
-- Name: referrals referrals_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.referrals
    ADD CONSTRAINT referrals_pkey PRIMARY KEY (tenant_id, referee_id);

--
-- Name: replay_transactions replay_transactions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.replay_transactions
    ADD CONSTRAINT replay_transactions_pkey PRIMARY KEY (tenant_id, job_id, transaction_id);

--
-- Name: risk_events risk_events_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.risk_events
    ADD CONSTRAINT risk_events_pkey PRIMARY KEY (tenant_id, event_id);

--
-- Name: rule_usage rule_usage_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.rule_usage
    ADD CONSTRAINT rule_usage_pkey PRIMARY KEY (tenant_id, member_id, rule_id, period);

--
-- Name: schema_migrations schema_migrations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);

--
-- Name: segment_generations segment_generations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.segment_generations
    ADD CONSTRAINT segment_generations_pkey PRIMARY KEY (tenant_id, segment_id, generation);

--
-- Name: segment_members segment_members_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.segment_members
    ADD CONSTRAINT segment_members_pkey PRIMARY KEY (tenant_id, member_id, segment_id, generation, added_at) INCLUDE (removed_at);

--
-- Name: segments segments_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.segments
    ADD CONSTRAINT segments_pkey PRIMARY KEY (tenant_id, segment_id);

--
-- Name: settlement_periods settlement_periods_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.settlement_periods
    ADD CONSTRAINT settlement_periods_pkey PRIMARY KEY (tenant_id, period);

--
-- Name: sign_in_failures sign_in_failures_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sign_in_failures
    ADD CONSTRAINT sign_in_failures_pkey PRIMARY KEY (tenant_id, client, minute);

--
-- Name: statements statements_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.statements
    ADD CONSTRAINT statements_pkey PRIMARY KEY (tenant_id, period, merchant_id);

--
-- Name: stores stores_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.stores
    ADD CONSTRAINT stores_pkey PRIMARY KEY (tenant_id, store_id);

--
-- Name: tenant_secrets tenant_secrets_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tenant_secrets
    ADD CONSTRAINT tenant_secrets_pkey PRIMARY KEY (tenant_id, kind, secret);

--
-- Name: tenants tenants_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tenants
    ADD CONSTRAINT tenants_pkey PRIMARY KEY (tenant_id);

--
-- Name: transactions transactions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.transactions
    ADD CONSTRAINT transactions_pkey PRIMARY KEY (tenant_id, transaction_id);

--
-- Name: transfers transfers_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.transfers
    ADD CONSTRAINT transfers_pkey PRIMARY KEY (tenant_id, transfer_id);

--
-- Name: web_sessions web_sessions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.web_sessions
    ADD CONSTRAINT web_sessions_pkey PRIMARY KEY (tenant_id, session_hash);

--
-- Name: api_keys_key_id; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX api_keys_key_id ON public.api_keys USING btree (tenant_id, key_id);

--
-- Name: approvals_by_status; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX approvals_by_status ON public.approvals USING btree (tenant_id, status, created_at, approval_id);

--
-- Name: catalog_codes_available; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX catalog_codes_available ON public.catalog_codes USING btree (tenant_id, sku, code_id) WHERE (status = 'available'::text);

--
-- Name: config_history_version; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX config_history_version ON public.config_history USING btree (tenant_id, version, change_id);

--
-- Name: device_members_member; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX device_members_member ON public.device_members USING btree (tenant_id, member_id);

--
-- Name: grant_members_member; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX grant_members_member ON public.grant_members USING btree (tenant_id, member_id);

--
-- Name: holds_by_status; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX holds_by_status ON public.holds USING btree (tenant_id, status, created_at, transaction_id);

--
-- Name: idempotency_keys_age; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idempotency_keys_age ON public.idempotency_keys USING btree (created_at);

--
-- Name: jobs_by_kind; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX jobs_by_kind ON public.jobs USING btree (tenant_id, kind, created_at DESC);

--
-- Name: jobs_waiting; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX jobs_waiting ON public.jobs USING btree (created_at) WHERE (status = ANY (ARRAY['queued'::text, 'running'::text]));

--
-- Name: lots_bucket; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX lots_bucket ON public.lots USING btree (tenant_id, member_id, expires_at, available_at) NULLS NOT DISTINCT;

--
-- Name: lots_expiring; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX lots_expiring ON public.lots USING btree (tenant_id, expires_at) WHERE (remaining > 0);

--
-- Name: lots_open; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX lots_open ON public.lots USING btree (tenant_id, member_id, expires_at, lot_id) WHERE (remaining > 0);

--
-- Name: members_referral_code; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX members_referral_code ON public.members USING btree (tenant_id, referral_code) WHERE (referral_code IS NOT NULL);

--
-- Name: offer_members_offer; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX offer_members_offer ON public.offer_members USING btree (tenant_id, offer_id, claimed_at);

--
-- Name: offer_redemptions_day; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX offer_redemptions_day ON public.offer_redemptions USING btree (tenant_id, offer_id, day);

--
-- Name: offer_redemptions_settled; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX offer_redemptions_settled ON public.offer_redemptions USING btree (tenant_id, settled, merchant_id) WHERE (settled IS NOT NULL);

--
-- Name: offer_redemptions_transaction; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX offer_redemptions_transaction ON public.offer_redemptions USING btree (tenant_id, transaction_id);

--
-- Name: offer_redemptions_unsettled; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX offer_redemptions_unsettled ON public.offer_redemptions USING btree (tenant_id, merchant_id, day) WHERE (settled IS NULL);

--
-- Name: offer_stores_offer; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX offer_stores_offer ON public.offer_stores USING btree (tenant_id, offer_id);

--
-- Name: offers_merchant; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX offers_merchant ON public.offers USING btree (tenant_id, merchant_id, offer_id);

--
-- Name: offers_status; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX offers_status ON public.offers USING btree (tenant_id, status, offer_id);

--
-- Name: outbox_due; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX outbox_due ON public.outbox_events USING btree (tenant_id, next_attempt_at) WHERE (status = 'pending'::text);

--
-- Name: redemptions_member; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX redemptions_member ON public.redemptions USING btree (tenant_id, member_id, sku, created_at);

--
-- Name: referrals_referrer; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX referrals_referrer ON public.referrals USING btree (tenant_id, referrer_id, attached_at DESC);

--
-- Name: referrals_transaction; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX referrals_transaction ON public.referrals USING btree (tenant_id, transaction_id) WHERE (transaction_id IS NOT NULL);

--
-- Name: risk_events_member; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX risk_events_member ON public.risk_events USING btree (tenant_id, member_id, event_id DESC);

--
-- Name: risk_events_time; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX risk_events_time ON public.risk_events USING btree (tenant_id, event_id DESC);

--
-- Name: segment_members_current; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX segment_members_current ON public.segment_members USING btree (tenant_id, segment_id, generation, member_id) WHERE (removed_at IS NULL);

--
-- Name: statements_merchant; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX statements_merchant ON public.statements USING btree (tenant_id, merchant_id, period);

--
-- Name: stores_merchant; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX stores_merchant ON public.stores USING btree (tenant_id, merchant_id, store_id);

--
-- Name: stores_r10; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX stores_r10 ON public.stores USING btree (tenant_id, h3_r10) INCLUDE (lat, lng, store_id, merchant_id, name, address) WHERE (NOT deleted);

--
-- Name: stores_r6; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX stores_r6 ON public.stores USING btree (tenant_id, h3_r6) INCLUDE (lat, lng, store_id, merchant_id, name, address) WHERE (NOT deleted);

--
-- Name: stores_r7; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX stores_r7 ON public.stores USING btree (tenant_id, h3_r7) INCLUDE (lat, lng, store_id, merchant_id, name, address) WHERE (NOT deleted);

--
-- Name: stores_r8; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX stores_r8 ON public.stores USING btree (tenant_id, h3_r8) INCLUDE (lat, lng, store_id, merchant_id, name, address) WHERE (NOT deleted);

--
-- Name: stores_r9; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX stores_r9 ON public.stores USING btree (tenant_id, h3_r9) INCLUDE (lat, lng, store_id, merchant_id, name, address) WHERE (NOT deleted);

--
-- Name: tenant_secrets_current; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX tenant_secrets_current ON public.tenant_secrets USING btree (tenant_id, kind) WHERE (valid_until IS NULL);

--
-- Name: transactions_member; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX transactions_member ON public.transactions USING btree (tenant_id, member_id, occurred_at);

--
-- Name: transactions_seq; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX transactions_seq ON public.transactions USING btree (tenant_id, seq);

--
-- Name: transfers_day; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX transfers_day ON public.transfers USING brin (created_at) WITH (autosummarize='on');

--
-- Name: transfers_member; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX transfers_member ON public.transfers USING btree (tenant_id, member_id, transfer_id DESC);

--
-- Name: transfers_transaction; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX transfers_transaction ON public.transfers USING btree (tenant_id, transaction_id) WHERE (transaction_id IS NOT NULL);

--
-- Name: web_sessions_key; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX web_sessions_key ON public.web_sessions USING btree (tenant_id, key_hash);

--
-- Name: budget_reservations budget_reservations_apply; Type: TRIGGER; Schema: public; Owner: -
--

CREATE CONSTRAINT TRIGGER budget_reservations_apply AFTER INSERT ON public.budget_reservations DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION public.apply_budget_reservation();

--
-- Name: members members_history_insert; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER members_history_insert AFTER INSERT ON public.members REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION public.record_member_changes_added();

--
-- Name: members members_history_update; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER members_history_update AFTER UPDATE OF tier, card_products, status ON public.members FOR EACH ROW WHEN (((old.tier IS DISTINCT FROM new.tier) OR (old.card_products IS DISTINCT FROM new.card_products) OR (old.status IS DISTINCT FROM new.status))) EXECUTE FUNCTION public.record_member_change();

--
-- Name: offer_stores offer_stores_deleted; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER offer_stores_deleted AFTER DELETE ON public.offer_stores REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION public.note_changed_offer_stores();

--
-- Name: offer_stores offer_stores_inserted; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER offer_stores_inserted AFTER INSERT ON public.offer_stores REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION public.note_changed_offer_stores();

--
-- Name: offers offers_deleted; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER offers_deleted AFTER DELETE ON public.offers REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION public.note_changed_rows();

--
-- Name: offers offers_history_insert; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER offers_history_insert AFTER INSERT ON public.offers FOR EACH ROW EXECUTE FUNCTION public.record_offer_version();

--
-- Name: offers offers_history_update; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER offers_history_update AFTER UPDATE OF definition, status, merchant_id ON public.offers FOR EACH ROW WHEN (((old.definition IS DISTINCT FROM new.definition) OR (old.status IS DISTINCT FROM new.status) OR (old.merchant_id IS DISTINCT FROM new.merchant_id))) EXECUTE FUNCTION public.record_offer_version();

--
-- Name: offers offers_inserted; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER offers_inserted AFTER INSERT ON public.offers REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION public.note_changed_rows();

--
-- Name: offers offers_updated; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER offers_updated AFTER UPDATE ON public.offers REFERENCING OLD TABLE AS before_rows NEW TABLE AS after_rows FOR EACH STATEMENT EXECUTE FUNCTION public.note_changed_offers();

--
-- Name: stores stores_deleted; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER stores_deleted AFTER DELETE ON public.stores REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION public.note_changed_rows();

--
-- Name: stores stores_inserted; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER stores_inserted AFTER INSERT ON public.stores REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION public.note_changed_rows();

--
-- Name: stores stores_updated; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER stores_updated AFTER UPDATE ON public.stores REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION public.note_changed_rows();

--
-- Name: transfers transfers_immutable; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER transfers_immutable BEFORE DELETE OR UPDATE ON public.transfers FOR EACH ROW EXECUTE FUNCTION public.transfers_are_immutable();

--
-- Name: transfers transfers_no_truncate; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER transfers_no_truncate BEFORE TRUNCATE ON public.transfers FOR EACH STATEMENT EXECUTE FUNCTION public.transfers_are_immutable();

--
-- Name: api_keys api_keys_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(tenant_id);

--
-- Name: audit_log audit_log_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_log
    ADD CONSTRAINT audit_log_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(tenant_id);

--
-- Name: catalog_items catalog_items_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.catalog_items
    ADD CONSTRAINT catalog_items_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(tenant_id);

--
-- Name: config_history config_history_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.config_history
    ADD CONSTRAINT config_history_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(tenant_id);

--
-- Name: device_members device_members_tenant_id_device_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.device_members
    ADD CONSTRAINT device_members_tenant_id_device_fkey FOREIGN KEY (tenant_id, device) REFERENCES public.devices(tenant_id, device);

--
-- Name: devices devices_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.devices
    ADD CONSTRAINT devices_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(tenant_id);

--
-- Name: draw_campaigns draw_campaigns_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.draw_campaigns
    ADD CONSTRAINT draw_campaigns_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(tenant_id);

--
-- Name: earn_rules earn_rules_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.earn_rules
    ADD CONSTRAINT earn_rules_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(tenant_id);

--
-- Name: job_errors job_errors_tenant_id_job_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.job_errors
    ADD CONSTRAINT job_errors_tenant_id_job_id_fkey FOREIGN KEY (tenant_id, job_id) REFERENCES public.jobs(tenant_id, job_id) ON DELETE CASCADE;

--
-- Name: jobs jobs_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.jobs
    ADD CONSTRAINT jobs_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(tenant_id);

--
-- Name: members members_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.members
    ADD CONSTRAINT members_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(tenant_id);

--
-- Name: merchants merchants_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.merchants
    ADD CONSTRAINT merchants_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(tenant_id);

--
-- Name: offer_versions offer_versions_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.offer_versions
    ADD CONSTRAINT offer_versions_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(tenant_id);

--
-- Name: offers offers_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.offers
    ADD CONSTRAINT offers_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(tenant_id);

--
-- Name: programs programs_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.programs
    ADD CONSTRAINT programs_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(tenant_id);

--
-- Name: referrals referrals_tenant_id_referee_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.referrals
    ADD CONSTRAINT referrals_tenant_id_referee_id_fkey FOREIGN KEY (tenant_id, referee_id) REFERENCES public.members(tenant_id, member_id);

--
-- Name: referrals referrals_tenant_id_referrer_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.referrals
    ADD CONSTRAINT referrals_tenant_id_referrer_id_fkey FOREIGN KEY (tenant_id, referrer_id) REFERENCES public.members(tenant_id, member_id);

--
-- Name: replay_transactions replay_transactions_tenant_id_job_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.replay_transactions
    ADD CONSTRAINT replay_transactions_tenant_id_job_id_fkey FOREIGN KEY (tenant_id, job_id) REFERENCES public.jobs(tenant_id, job_id) ON DELETE CASCADE;

--
-- Name: risk_events risk_events_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.risk_events
    ADD CONSTRAINT risk_events_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(tenant_id);

--
-- Name: stores stores_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.stores
    ADD CONSTRAINT stores_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(tenant_id);

--
-- Name: tenant_secrets tenant_secrets_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tenant_secrets
    ADD CONSTRAINT tenant_secrets_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(tenant_id) ON DELETE CASCADE;

--
-- Name: transactions transactions_tenant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.transactions
    ADD CONSTRAINT transactions_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants(tenant_id);

--
-- Name: web_sessions web_sessions_tenant_id_key_hash_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.web_sessions
    ADD CONSTRAINT web_sessions_tenant_id_key_hash_fkey FOREIGN KEY (tenant_id, key_hash) REFERENCES public.api_keys(tenant_id, key_hash) ON DELETE CASCADE;

--
-- PostgreSQL database dump complete
--
