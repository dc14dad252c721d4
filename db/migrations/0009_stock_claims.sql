-- Catalog stock taken at commit, like budgets (0008).
--
-- Every redemption of an item updates that item's row (stock left, redeemed count). Updated
-- inside the redemption's transaction, the row stayed locked until the client's COMMIT came
-- back, and all redemptions of a popular item queued behind one another. A redemption now
-- claims its stock in budget_claims; the deferred trigger takes it during COMMIT and refuses
-- it (SQLSTATE 40001) when the item no longer has that much left. The service then redeems
-- again with the item's row locked from the start, which answers out of stock exactly.
--
-- A stock claim's delta is taken from stock_left (negative: given back), delta2 is added to
-- the redeemed count.

ALTER TABLE budget_claims DROP CONSTRAINT budget_claims_budget_check;
ALTER TABLE budget_claims ADD CONSTRAINT budget_claims_budget_check
    CHECK (budget IN ('rule', 'campaign', 'offer', 'campaign_day', 'stock'));

CREATE FUNCTION reserve_stock(tenant text, item text, taken bigint, counted bigint)
RETURNS boolean
LANGUAGE sql AS $$
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

CREATE OR REPLACE FUNCTION apply_budget_claim() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    fits boolean;
BEGIN
    fits := CASE NEW.budget
        WHEN 'rule' THEN reserve_rule_budget(NEW.tenant_id, NEW.key, NEW.delta)
        WHEN 'campaign' THEN reserve_campaign_budget(NEW.tenant_id, NEW.key, NEW.delta)
        WHEN 'offer' THEN reserve_offer_budget(NEW.tenant_id, NEW.key, NEW.delta, NEW.delta2)
        WHEN 'campaign_day' THEN reserve_campaign_day(NEW.tenant_id, NEW.key, NEW.day, NEW.delta)
        WHEN 'stock' THEN reserve_stock(NEW.tenant_id, NEW.key, NEW.delta, NEW.delta2)
    END;
    IF NOT fits THEN
        RAISE EXCEPTION 'the % budget % was taken by a concurrent transaction', NEW.budget, NEW.key
            USING ERRCODE = 'serialization_failure';
    END IF;
    DELETE FROM budget_claims WHERE tenant_id = NEW.tenant_id AND claim_id = NEW.claim_id;
    RETURN NULL;
END $$;
