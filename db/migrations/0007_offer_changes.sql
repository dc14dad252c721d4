-- Offer changes, numbered per tenant. Each API process keeps a tenant's active offers and
-- their stores in memory for nearby search; one cheap read of offer_versions per search
-- tells it whether anything changed, and offer_changes which merchants to reload.
--
-- The version row is updated (not a sequence), so changes are numbered in commit order:
-- a reader that sees version v also sees every change numbered v or below.

CREATE TABLE offer_versions (
    tenant_id    text PRIMARY KEY REFERENCES tenants (tenant_id),
    version      bigint NOT NULL,
    -- changes numbered below this were pruned: a process that is further behind reloads all
    pruned_below bigint NOT NULL DEFAULT 0
);

CREATE TABLE offer_changes (
    tenant_id   text NOT NULL,
    version     bigint NOT NULL,
    merchant_id text NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, version, merchant_id)
);

CREATE FUNCTION note_offer_change(tenant text, merchants text[]) RETURNS void
LANGUAGE sql AS $$
    WITH bumped AS (
        INSERT INTO offer_versions AS v (tenant_id, version) VALUES (tenant, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = v.version + 1
        RETURNING v.version
    )
    INSERT INTO offer_changes (tenant_id, version, merchant_id)
    SELECT tenant, bumped.version, m FROM bumped, unnest(merchants) AS m
    ON CONFLICT DO NOTHING;
$$;

-- Statement triggers (one version per statement, however many rows); the transition
-- table is called "changed" in each.
CREATE FUNCTION note_changed_rows() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM note_offer_change(tenant_id, array_agg(DISTINCT merchant_id))
    FROM changed GROUP BY tenant_id;
    RETURN NULL;
END $$;

CREATE FUNCTION note_changed_offer_stores() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM note_offer_change(c.tenant_id, array_agg(DISTINCT o.merchant_id))
    FROM changed c JOIN offers o ON o.tenant_id = c.tenant_id AND o.offer_id = c.offer_id
    GROUP BY c.tenant_id;
    RETURN NULL;
END $$;

-- An update of offers counts only when what nearby shows changed: budget counters move on
-- every purchase and must not invalidate anything. Runs after the whole statement, so the
-- version row is always locked after the offer rows (no lock-order deadlock with the hook).
CREATE FUNCTION note_changed_offers() RETURNS trigger
LANGUAGE plpgsql AS $$
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

CREATE TRIGGER stores_inserted AFTER INSERT ON stores
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION note_changed_rows();
CREATE TRIGGER stores_updated AFTER UPDATE ON stores
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION note_changed_rows();
CREATE TRIGGER stores_deleted AFTER DELETE ON stores
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION note_changed_rows();

CREATE TRIGGER offers_inserted AFTER INSERT ON offers
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION note_changed_rows();
CREATE TRIGGER offers_deleted AFTER DELETE ON offers
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION note_changed_rows();
CREATE TRIGGER offers_updated AFTER UPDATE ON offers
    REFERENCING OLD TABLE AS before_rows NEW TABLE AS after_rows
    FOR EACH STATEMENT EXECUTE FUNCTION note_changed_offers();

CREATE TRIGGER offer_stores_inserted AFTER INSERT ON offer_stores
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION note_changed_offer_stores();
CREATE TRIGGER offer_stores_deleted AFTER DELETE ON offer_stores
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION note_changed_offer_stores();
