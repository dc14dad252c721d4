-- The table of what transactions take from budgets until their COMMIT, named as the code
-- names it: budget reservations (each with an amount, and a second amount where a budget
-- counts two things: an offer's uses and reward, an item's stock and redemptions). Rows never
-- outlive their transaction, so renaming loses nothing.
ALTER TABLE budget_claims RENAME TO budget_reservations;
ALTER TABLE budget_reservations RENAME COLUMN claim_id TO reservation_id;
ALTER TABLE budget_reservations RENAME COLUMN delta TO amount;
ALTER TABLE budget_reservations RENAME COLUMN delta2 TO amount2;
ALTER TABLE budget_reservations RENAME CONSTRAINT budget_claims_pkey TO budget_reservations_pkey;
ALTER TABLE budget_reservations
    RENAME CONSTRAINT budget_claims_budget_check TO budget_reservations_budget_check;
ALTER SEQUENCE budget_claims_claim_id_seq RENAME TO budget_reservations_reservation_id_seq;

CREATE FUNCTION apply_budget_reservation() RETURNS trigger
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

DROP TRIGGER budget_claims_apply ON budget_reservations;
CREATE CONSTRAINT TRIGGER budget_reservations_apply AFTER INSERT ON budget_reservations
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION apply_budget_reservation();
DROP FUNCTION apply_budget_claim();
