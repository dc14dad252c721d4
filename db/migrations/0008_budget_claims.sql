-- Budgets reserved at commit.
--
-- A budget row (a rule's points budget, a draw campaign's total and daily budget, an
-- offer's budget) is shared by every transaction that pays from it. Updated inside a
-- transaction, it stays locked from that update until the client's COMMIT comes back over
-- the network, and every other payer queues behind it. Instead, a batch inserts what it pays
-- into budget_claims; a deferred trigger adds each claim to its budget during COMMIT, on the
-- latest committed row, and refuses it (SQLSTATE 40001) when it no longer fits. The row is
-- then locked only for the commit itself. A refused commit is rolled back whole, and the
-- service plans the batch again with the budget rows locked from the start.
--
-- Claims are inserted in the order rule, campaign, offer, campaign day (then by key), the
-- order in which a batch that locks its budgets from the start takes them: two committing
-- batches never wait on each other in opposite orders.

CREATE TABLE budget_claims (
    tenant_id text NOT NULL,
    claim_id  bigint GENERATED ALWAYS AS IDENTITY,
    budget    text NOT NULL CHECK (budget IN ('rule', 'campaign', 'offer', 'campaign_day')),
    key       text NOT NULL,
    day       date,
    delta     bigint NOT NULL,
    delta2    bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, claim_id)
);

-- Each adds what was paid (negative: released) unless that passes the budget; true if added.
CREATE FUNCTION reserve_rule_budget(tenant text, rule text, delta bigint) RETURNS boolean
LANGUAGE sql AS $$
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

CREATE FUNCTION reserve_campaign_budget(tenant text, campaign text, delta bigint)
RETURNS boolean
LANGUAGE sql AS $$
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

CREATE FUNCTION reserve_campaign_day(tenant text, campaign text, on_day date, delta bigint)
RETURNS boolean
LANGUAGE plpgsql AS $$
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

-- An offer also turns exhausted when its budget is spent, and active again when a refund
-- frees some (a paused, ended or rejected offer keeps its status).
CREATE FUNCTION reserve_offer_budget(tenant text, offer text, uses bigint, reward bigint)
RETURNS boolean
LANGUAGE sql AS $$
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

CREATE FUNCTION apply_budget_claim() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    fits boolean;
BEGIN
    fits := CASE NEW.budget
        WHEN 'rule' THEN reserve_rule_budget(NEW.tenant_id, NEW.key, NEW.delta)
        WHEN 'campaign' THEN reserve_campaign_budget(NEW.tenant_id, NEW.key, NEW.delta)
        WHEN 'offer' THEN reserve_offer_budget(NEW.tenant_id, NEW.key, NEW.delta, NEW.delta2)
        WHEN 'campaign_day' THEN reserve_campaign_day(NEW.tenant_id, NEW.key, NEW.day, NEW.delta)
    END;
    IF NOT fits THEN
        RAISE EXCEPTION 'the % budget % was taken by a concurrent transaction', NEW.budget, NEW.key
            USING ERRCODE = 'serialization_failure';
    END IF;
    DELETE FROM budget_claims WHERE tenant_id = NEW.tenant_id AND claim_id = NEW.claim_id;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER budget_claims_apply AFTER INSERT ON budget_claims
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION apply_budget_claim();
