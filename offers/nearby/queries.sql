-- Named queries of offers.nearby.repository, loaded once and called by name.

-- name: offer_claim
INSERT INTO offer_members (tenant_id, member_id, offer_id, claimed_at)
VALUES ($1::text, $2::text, $3::text, now())
ON CONFLICT (tenant_id, member_id, offer_id) DO UPDATE
SET claimed_at = coalesce(offer_members.claimed_at, now())
RETURNING claimed_at, uses;

-- name: offer_claims_of_member
-- The member's claims with their offers, newest first; keyset ($3, $4) = the last claim seen.
SELECT o.offer_id, o.merchant_id, o.definition, o.status, o.redemptions_used,
       o.reward_used_minor, o.reject_reason, o.created_at, m.claimed_at, m.uses
FROM offer_members m
JOIN offers o ON o.tenant_id = m.tenant_id AND o.offer_id = m.offer_id
WHERE m.tenant_id = $1::text AND m.member_id = $2::text AND m.claimed_at IS NOT NULL
  AND ($3::timestamptz IS NULL OR (m.claimed_at, m.offer_id) < ($3::timestamptz, $4::text))
ORDER BY m.claimed_at DESC, m.offer_id DESC
LIMIT $5::int;

-- name: offer_member_standing
SELECT member_id, offer_id, claimed_at IS NOT NULL AS claimed, uses FROM offer_members
WHERE tenant_id = $1::text AND member_id = $2::text AND offer_id = ANY($3::text[]);

-- name: nearby_member
-- Everything a nearby search reads from the database, in one statement: the tenant's offer
-- version (to check the in-memory index), the program's time zone, the member's targeting
-- facts, and the member's claims and uses.
SELECT coalesce(v.version, 0) AS offers_version, coalesce(v.pruned_below, 0) AS pruned_below,
       p.config ->> 'time_zone' AS time_zone,
       m.tier, member_segments($1::text, $2::text) AS segments,
       coalesce(m.card_products, '{}') AS card_products,
       ARRAY(SELECT u.offer_id FROM offer_members u
             WHERE u.tenant_id = $1::text AND u.member_id = $2::text
               AND u.claimed_at IS NOT NULL) AS claimed,
       ARRAY(SELECT u.offer_id FROM offer_members u
             WHERE u.tenant_id = $1::text AND u.member_id = $2::text AND u.uses > 0
             ORDER BY u.offer_id) AS used_offers,
       ARRAY(SELECT u.uses FROM offer_members u
             WHERE u.tenant_id = $1::text AND u.member_id = $2::text AND u.uses > 0
             ORDER BY u.offer_id) AS uses
FROM (SELECT 1) AS one
LEFT JOIN offer_versions v ON v.tenant_id = $1::text
LEFT JOIN programs p ON p.tenant_id = $1::text
LEFT JOIN members m ON m.tenant_id = $1::text AND m.member_id = $2::text;

-- name: offer_version
SELECT coalesce((SELECT version FROM offer_versions WHERE tenant_id = $1::text), 0);

-- name: offer_changes_since
SELECT DISTINCT merchant_id FROM offer_changes
WHERE tenant_id = $1::text AND version > $2::bigint AND version <= $3::bigint;

-- name: offers_active_all
SELECT o.offer_id, o.merchant_id, o.definition, o.redemptions_used, o.reward_used_minor,
       o.created_at, coalesce(array_agg(s.store_id) FILTER (WHERE s.store_id IS NOT NULL), '{}') AS stores
FROM offers o LEFT JOIN offer_stores s USING (tenant_id, offer_id)
WHERE o.tenant_id = $1::text AND o.status = 'active'
GROUP BY o.tenant_id, o.offer_id;

-- name: stores_of_merchants
SELECT store_id, merchant_id, name, address, lat, lng, h3_r6, h3_r7, h3_r8, h3_r9, h3_r10
FROM stores
WHERE tenant_id = $1::text AND merchant_id = ANY($2::text[]) AND NOT deleted;

-- name: offer_changes_prune
-- Forget changes older than $1 (every process has long caught up); a process still behind
-- them reloads its whole index.
WITH gone AS (
    DELETE FROM offer_changes WHERE changed_at < $1::timestamptz
    RETURNING tenant_id, version
)
UPDATE offer_versions v SET pruned_below = greatest(v.pruned_below, g.top + 1)
FROM (SELECT tenant_id, max(version) AS top FROM gone GROUP BY tenant_id) AS g
WHERE v.tenant_id = g.tenant_id;
