-- Named queries of rewards.members.repository, loaded once and called by name.

-- name: member_enroll
INSERT INTO members (tenant_id, member_id) VALUES ($1::text, $2::text)
ON CONFLICT (tenant_id, member_id) DO NOTHING;

-- name: member_get
SELECT member_id, tier, member_segments(tenant_id, member_id) AS segments, card_products,
       referral_code_used, referral_code, created_at, status
FROM members WHERE tenant_id = $1::text AND member_id = $2::text;

-- name: member_upsert
-- The referral code used is attached by rewards.referrals, never replaced here; the
-- segments are set by rewards.segments.
-- $5: the member's status (NULL: as it is, active for a new member).
INSERT INTO members (tenant_id, member_id, tier, card_products, status)
VALUES ($1::text, $2::text, $3::text, $4::text[], coalesce($5::text, 'active'))
ON CONFLICT (tenant_id, member_id) DO UPDATE
SET tier = EXCLUDED.tier, card_products = EXCLUDED.card_products,
    status = coalesce($5::text, members.status), updated_at = now();

-- name: member_list
-- Members by id, optionally of one tier and one segment, each with its balance (pending:
-- points not yet available).
SELECT m.member_id, m.tier, member_segments(m.tenant_id, m.member_id) AS segments,
       m.card_products, m.referral_code_used, m.referral_code, m.created_at, m.status,
       m.points_balance AS balance,
       coalesce((SELECT sum(l.remaining) FROM lots l
                 WHERE l.tenant_id = m.tenant_id AND l.member_id = m.member_id
                   AND l.remaining > 0 AND l.available_at > now()), 0)::bigint
           AS pending
FROM members m
WHERE m.tenant_id = $1::text
  AND ($2::text IS NULL OR m.tier = $2::text)
  AND ($3::text IS NULL OR EXISTS (
        SELECT 1 FROM segment_members sm
        JOIN segments s ON s.tenant_id = sm.tenant_id AND s.segment_id = sm.segment_id
                       AND s.generation = sm.generation
        WHERE sm.tenant_id = m.tenant_id AND sm.member_id = m.member_id
          AND sm.segment_id = $3::text AND sm.removed_at IS NULL))
  AND ($4::text IS NULL OR m.member_id > $4::text)
ORDER BY m.member_id
LIMIT $5::int;

-- name: member_status_many
-- The members $2 that exist get the status $3, locked in id order as every writer of
-- members locks them; those whose status changed.
WITH locked AS (
    SELECT member_id FROM members
    WHERE tenant_id = $1::text AND member_id = ANY($2::text[])
    ORDER BY member_id FOR UPDATE
)
UPDATE members m SET status = $3::text, updated_at = now()
FROM locked
WHERE m.tenant_id = $1::text AND m.member_id = locked.member_id AND m.status <> $3::text
RETURNING m.member_id;
