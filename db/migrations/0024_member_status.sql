-- A member's status over time (active, suspended, closed), beside tier and card products:
-- a replay plans a suspended member's purchases as the hook did.
ALTER TABLE member_changes ADD COLUMN status text NOT NULL DEFAULT 'active';

CREATE OR REPLACE FUNCTION record_member_change() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    INSERT INTO member_changes (tenant_id, member_id, tier, segments, card_products, status)
    VALUES (NEW.tenant_id, NEW.member_id, NEW.tier, '{}', NEW.card_products, NEW.status);
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION record_member_changes_added() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    INSERT INTO member_changes (tenant_id, member_id, tier, segments, card_products, status)
    SELECT tenant_id, member_id, tier, '{}', card_products, status FROM added
    WHERE tier IS NOT NULL OR card_products <> '{}' OR status <> 'active';
    RETURN NULL;
END;
$$;

DROP TRIGGER members_history_update ON members;
CREATE TRIGGER members_history_update AFTER UPDATE OF tier, card_products, status ON members
    FOR EACH ROW
    WHEN (old.tier IS DISTINCT FROM new.tier
          OR old.card_products IS DISTINCT FROM new.card_products
          OR old.status IS DISTINCT FROM new.status)
    EXECUTE FUNCTION record_member_change();
