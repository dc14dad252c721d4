-- Named queries of offers.publishing.repository, loaded once and called by name.

-- name: store_insert
INSERT INTO stores (tenant_id, store_id, merchant_id, name, address, lat, lng,
                    h3_r6, h3_r7, h3_r8, h3_r9, h3_r10)
VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, $6::float8, $7::float8,
        $8::bigint, $9::bigint, $10::bigint, $11::bigint, $12::bigint)
ON CONFLICT (tenant_id, store_id) DO NOTHING
RETURNING store_id;

-- name: stores_insert_many
INSERT INTO stores (tenant_id, store_id, merchant_id, name, address, lat, lng,
                    h3_r6, h3_r7, h3_r8, h3_r9, h3_r10)
SELECT $1::text, s.store_id, s.merchant_id, s.name, s.address, s.lat, s.lng,
       s.r6, s.r7, s.r8, s.r9, s.r10
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::float8[],
            $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[])
     AS s(store_id, merchant_id, name, address, lat, lng, r6, r7, r8, r9, r10)
ON CONFLICT (tenant_id, store_id) DO NOTHING;

-- name: store_update
UPDATE stores SET name = $4::text, address = $5::text, lat = $6::float8, lng = $7::float8,
       h3_r6 = $8::bigint, h3_r7 = $9::bigint, h3_r8 = $10::bigint, h3_r9 = $11::bigint,
       h3_r10 = $12::bigint
WHERE tenant_id = $1::text AND store_id = $2::text AND merchant_id = $3::text AND NOT deleted;

-- name: store_delete
UPDATE stores SET deleted = true
WHERE tenant_id = $1::text AND store_id = $2::text AND merchant_id = $3::text AND NOT deleted
RETURNING store_id;

-- name: store_get
SELECT store_id, merchant_id, name, address, lat, lng FROM stores
WHERE tenant_id = $1::text AND store_id = $2::text AND merchant_id = $3::text AND NOT deleted;

-- name: store_list
SELECT store_id, merchant_id, name, address, lat, lng FROM stores
WHERE tenant_id = $1::text AND merchant_id = $2::text AND NOT deleted
  AND ($3::text IS NULL OR store_id > $3::text)
ORDER BY store_id LIMIT $4::int;

-- name: stores_of_merchant_among
SELECT store_id FROM stores
WHERE tenant_id = $1::text AND merchant_id = $2::text AND store_id = ANY($3::text[])
  AND NOT deleted;

-- name: offer_insert
INSERT INTO offers (tenant_id, offer_id, merchant_id, definition, category, status, all_stores)
VALUES ($1::text, $2::text, $3::text, $4::jsonb, $5::text, 'pending_review', $6::boolean)
ON CONFLICT (tenant_id, offer_id) DO NOTHING
RETURNING offer_id;

-- name: offer_stores_clear
DELETE FROM offer_stores WHERE tenant_id = $1::text AND offer_id = $2::text;

-- name: offer_stores_add
INSERT INTO offer_stores (tenant_id, store_id, offer_id)
SELECT $1::text, s, $2::text FROM unnest($3::text[]) AS s;

-- name: offer_update
UPDATE offers SET definition = $3::jsonb, category = $4::text, all_stores = $5::boolean,
       updated_at = now()
WHERE tenant_id = $1::text AND offer_id = $2::text;

-- name: offer_get
SELECT offer_id, merchant_id, definition, status, redemptions_used, reward_used_minor,
       reject_reason, created_at
FROM offers WHERE tenant_id = $1::text AND offer_id = $2::text;

-- name: offer_list_by_merchant
SELECT offer_id, merchant_id, definition, status, redemptions_used, reward_used_minor,
       reject_reason, created_at
FROM offers
WHERE tenant_id = $1::text AND merchant_id = $2::text
  AND ($3::text IS NULL OR offer_id > $3::text)
ORDER BY offer_id LIMIT $4::int;

-- name: offer_list_by_status
SELECT offer_id, merchant_id, definition, status, redemptions_used, reward_used_minor,
       reject_reason, created_at
FROM offers
WHERE tenant_id = $1::text AND ($2::text IS NULL OR status = $2::text)
  AND ($3::text IS NULL OR offer_id > $3::text)
ORDER BY offer_id LIMIT $4::int;

-- name: offer_set_status
UPDATE offers SET status = $3::text, reject_reason = $4::text, updated_at = now()
WHERE tenant_id = $1::text AND offer_id = $2::text AND status = ANY($5::text[])
RETURNING offer_id;

-- name: offers_reserve_budgets
-- Adds redemptions and rewards (or releases) to each offer's budget unless that passes it,
-- and sets exhausted or active to match (migration 0008); the offers it could add to.
SELECT o.offer_id
FROM offers o
JOIN unnest($2::text[], $3::bigint[], $4::bigint[]) AS u(offer_id, uses, reward)
  ON u.offer_id = o.offer_id
WHERE o.tenant_id = $1::text AND o.offer_id = ANY($2::text[])
  AND reserve_offer_budget(o.tenant_id, o.offer_id, u.uses, u.reward);

-- name: offer_stats
SELECT day,
       coalesce(sum(uses), 0)::bigint AS redemptions,
       coalesce(sum(reward_minor), 0)::bigint AS reward_minor,
       coalesce(sum(points), 0)::bigint AS points,
       coalesce(sum(spend_minor), 0)::bigint AS spend_minor
FROM offer_redemptions
WHERE tenant_id = $1::text AND offer_id = $2::text AND day BETWEEN $3::date AND $4::date
GROUP BY day ORDER BY day;

-- name: offer_claim_stats
SELECT (claimed_at AT TIME ZONE $5::text)::date AS day, count(*) AS claims
FROM offer_members
WHERE tenant_id = $1::text AND offer_id = $2::text AND claimed_at IS NOT NULL
  AND (claimed_at AT TIME ZONE $5::text)::date BETWEEN $3::date AND $4::date
GROUP BY 1 ORDER BY 1;

-- name: offers_activate_many
UPDATE offers SET status = 'active', updated_at = now()
WHERE tenant_id = $1::text AND offer_id = ANY($2::text[]) AND status = 'pending_review';

-- name: store_merchants
SELECT store_id, merchant_id FROM stores
WHERE tenant_id = $1::text AND store_id = ANY($2::text[]);

-- name: offers_active_of_merchants
SELECT o.offer_id, o.merchant_id, o.definition, o.redemptions_used, o.reward_used_minor,
       o.created_at, coalesce((SELECT array_agg(x.store_id) FROM offer_stores x
                 WHERE x.tenant_id = o.tenant_id AND x.offer_id = o.offer_id), '{}') AS stores
FROM offers o
WHERE o.tenant_id = $1::text AND o.merchant_id = ANY($2::text[]) AND o.status = 'active';

-- name: offers_by_id
SELECT o.offer_id, o.merchant_id, o.definition, o.redemptions_used, o.reward_used_minor,
       o.created_at, coalesce((SELECT array_agg(x.store_id) FROM offer_stores x
                 WHERE x.tenant_id = o.tenant_id AND x.offer_id = o.offer_id), '{}') AS stores
FROM offers o
WHERE o.tenant_id = $1::text AND o.offer_id = ANY($2::text[]);

-- name: offer_members_load
SELECT member_id, offer_id, claimed_at IS NOT NULL AS claimed, uses FROM offer_members
WHERE tenant_id = $1::text AND member_id = ANY($2::text[]) AND offer_id = ANY($3::text[]);

-- name: offer_members_save
INSERT INTO offer_members (tenant_id, member_id, offer_id, uses)
SELECT $1::text, u.member_id, u.offer_id, u.uses
FROM unnest($2::text[], $3::text[], $4::int[]) AS u(member_id, offer_id, uses)
ON CONFLICT (tenant_id, member_id, offer_id) DO UPDATE SET uses = EXCLUDED.uses;

-- name: offer_redemptions_insert
-- A match carries its offer's funding as it stood; a clawback ($11 and $12 NULL) takes the
-- funding, store and merchant of the match it reverses. The merchant's share and the fee
-- follow from them (merchant_share, migration 0026).
INSERT INTO offer_redemptions (tenant_id, offer_id, transaction_id, member_id, original_id,
                               uses, reward_minor, points, spend_minor, day, merchant_id,
                               store_id, occurred_at, share_pct, fee_per_match,
                               merchant_share_minor, fee_minor)
SELECT $1::text, r.offer_id, r.transaction_id, r.member_id, r.original_id, r.uses,
       r.reward_minor, r.points, r.spend_minor, r.day, r.merchant_id,
       coalesce(r.store_id, o.store_id), r.occurred_at,
       coalesce(r.share_pct, o.share_pct, 0), coalesce(r.fee, o.fee_per_match, 0),
       merchant_share(r.reward_minor, coalesce(r.share_pct, o.share_pct, 0)),
       r.uses * coalesce(r.fee, o.fee_per_match, 0)
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::bigint[],
            $8::bigint[], $9::bigint[], $10::date[], $11::int[], $12::bigint[], $13::text[],
            $14::text[], $15::timestamptz[])
     AS r(offer_id, transaction_id, member_id, original_id, uses, reward_minor, points,
          spend_minor, day, share_pct, fee, merchant_id, store_id, occurred_at)
LEFT JOIN offer_redemptions o
  ON r.original_id IS NOT NULL AND o.tenant_id = $1::text
     AND o.transaction_id = r.original_id AND o.offer_id = r.offer_id;

-- name: offers_lock
SELECT offer_id, redemptions_used, reward_used_minor FROM offers
WHERE tenant_id = $1::text AND offer_id = ANY($2::text[])
ORDER BY offer_id FOR UPDATE;

-- name: offer_history
-- Every version of the tenant's offers, in the order they took effect.
SELECT object_id AS offer_id, valid_from, document FROM config_history
WHERE tenant_id = $1::text AND kind = 'offer' AND document IS NOT NULL
ORDER BY valid_from, change_id;

-- name: offer_budgets_since
-- Each offer's budget as it stood before the transaction numbered $2 was recorded: what it
-- has paid now, less what the redemptions of that transaction and later ones took.
SELECT o.offer_id, o.merchant_id,
       o.redemptions_used - coalesce(r.uses, 0) AS used,
       o.reward_used_minor - coalesce(r.reward, 0) AS reward
FROM offers o
LEFT JOIN (
    SELECT x.offer_id, sum(x.uses) AS uses, sum(x.reward_minor + x.points) AS reward
    FROM offer_redemptions x
    JOIN transactions t ON t.tenant_id = x.tenant_id AND t.transaction_id = x.transaction_id
    WHERE x.tenant_id = $1::text AND t.seq >= $2::bigint
    GROUP BY x.offer_id
) r ON r.offer_id = o.offer_id
WHERE o.tenant_id = $1::text;

-- name: offer_claims_since
-- Members' claims, and their uses as they stood before the transaction numbered $2.
SELECT m.member_id, m.offer_id, m.claimed_at, m.uses - coalesce(r.uses, 0) AS uses
FROM offer_members m
LEFT JOIN (
    SELECT x.member_id, x.offer_id, sum(x.uses) AS uses
    FROM offer_redemptions x
    JOIN transactions t ON t.tenant_id = x.tenant_id AND t.transaction_id = x.transaction_id
    WHERE x.tenant_id = $1::text AND t.seq >= $2::bigint
    GROUP BY x.member_id, x.offer_id
) r ON r.member_id = m.member_id AND r.offer_id = m.offer_id
WHERE m.tenant_id = $1::text;

-- name: store_merchants_all
SELECT store_id, merchant_id FROM stores WHERE tenant_id = $1::text;

-- name: offer_history_of_merchant
-- Every version of one merchant's offers that took effect up to $3.
SELECT object_id AS offer_id, valid_from, document FROM config_history
WHERE tenant_id = $1::text AND kind = 'offer' AND document IS NOT NULL
  AND document->>'merchant_id' = $2::text AND valid_from <= $3::timestamptz
ORDER BY valid_from, change_id;

-- name: offer_standing_before
-- A member's claims (made up to $3) and uses of offers before the transaction numbered $4.
SELECT m.offer_id, m.claimed_at IS NOT NULL AND m.claimed_at <= $3::timestamptz AS claimed,
       coalesce((SELECT sum(x.uses) FROM offer_redemptions x
                 JOIN transactions t
                   ON t.tenant_id = x.tenant_id AND t.transaction_id = x.transaction_id
                 WHERE x.tenant_id = m.tenant_id AND x.member_id = m.member_id
                   AND x.offer_id = m.offer_id AND t.seq < $4::bigint), 0) AS uses
FROM offer_members m
WHERE m.tenant_id = $1::text AND m.member_id = $2::text;

-- name: store_merchant
SELECT merchant_id FROM stores WHERE tenant_id = $1::text AND store_id = $2::text;

-- name: offer_version_as_of
-- The version of an offer in force at $3 (the latest that took effect by then).
SELECT document, valid_from FROM config_history
WHERE tenant_id = $1::text AND kind = 'offer' AND object_id = $2::text
  AND valid_from <= $3::timestamptz
ORDER BY valid_from DESC, change_id DESC LIMIT 1;

-- name: offer_claim_many
-- An offer claimed for many members (a grant); an earlier claim is kept.
INSERT INTO offer_members (tenant_id, member_id, offer_id, claimed_at)
SELECT $1::text, m, $2::text, now() FROM unnest($3::text[]) AS m ORDER BY m
ON CONFLICT (tenant_id, member_id, offer_id) DO UPDATE
SET claimed_at = coalesce(offer_members.claimed_at, now());

-- name: offer_segments_named
-- The tenant's offers' version, and the segments its offers target when the version is not
-- $2 (the caller's cached answer is still good otherwise).
WITH v AS (
    SELECT coalesce((SELECT version FROM offer_versions WHERE tenant_id = $1::text), 0)
        AS version
)
SELECT v.version,
       CASE WHEN v.version IS DISTINCT FROM $2::bigint THEN
           ARRAY(SELECT DISTINCT s.segment
                 FROM offers o,
                      jsonb_array_elements_text(
                          coalesce(o.definition #> '{targeting,segment_in}', '[]')) AS s(segment)
                 WHERE o.tenant_id = $1::text AND jsonb_typeof(
                     coalesce(o.definition #> '{targeting,segment_in}', '[]')) = 'array')
       END AS segments
FROM v;
