-- Named queries of rewards.referrals.repository, loaded once and called by name.

-- name: member_code_set
-- Give the member a code unless they have one; NULL when they had one already.
UPDATE members SET referral_code = $3::text
WHERE tenant_id = $1::text AND member_id = $2::text AND referral_code IS NULL
RETURNING referral_code;

-- name: member_code
SELECT referral_code FROM members WHERE tenant_id = $1::text AND member_id = $2::text;

-- name: referral_attachments_lock
-- Attachments of one tenant, one at a time (until the transaction ends): each sees the
-- links the others made, so that no two of them close a cycle together. They are rare —
-- once in a member's life. The tenant's row is the lock (NO KEY UPDATE: the foreign-key
-- checks of other writes, which take KEY SHARE, do not wait for it).
SELECT tenant_id FROM tenants WHERE tenant_id = $1::text FOR NO KEY UPDATE;

-- name: members_lock_for_referral
-- The referee and the referrer, in id order as a hook batch locks members (locking one and
-- then letting the foreign-key check wait for the other would deadlock with a batch or
-- with the mirror-image attachment).
SELECT member_id FROM members
WHERE tenant_id = $1::text AND member_id = ANY ($2::text[])
ORDER BY member_id FOR UPDATE;

-- name: referral_chain_reaches
-- Whether $3 is among the members who referred $2, directly or up a chain.
WITH RECURSIVE up(member_id, depth) AS (
    SELECT r.referrer_id, 1 FROM referrals r
    WHERE r.tenant_id = $1::text AND r.referee_id = $2::text
    UNION
    SELECT r.referrer_id, up.depth + 1 FROM referrals r
    JOIN up ON r.tenant_id = $1::text AND r.referee_id = up.member_id
    WHERE up.depth < 10000
)
SELECT EXISTS (SELECT 1 FROM up WHERE member_id = $3::text);

-- name: member_by_code
SELECT member_id FROM members WHERE tenant_id = $1::text AND referral_code = $2::text;

-- name: referral_of
SELECT r.referee_id, r.referrer_id, p.referral_code AS code, r.attached_by, r.attached_at,
       r.status, r.reason, r.transaction_id, r.referee_points, r.referrer_points, r.settled_at
FROM referrals r
JOIN members p ON p.tenant_id = r.tenant_id AND p.member_id = r.referrer_id
WHERE r.tenant_id = $1::text AND r.referee_id = $2::text;

-- name: member_qualifying_purchase
-- Whether the member made a purchase that would have qualified: at least $3, in an MCC the
-- program does not exclude ($4).
SELECT EXISTS (
    SELECT 1 FROM transactions
    WHERE tenant_id = $1::text AND member_id = $2::text AND kind = 'purchase'
      AND amount_minor >= $3::bigint
      AND coalesce(body ->> 'mcc', '') <> ALL ($4::text[])
);

-- name: referral_attach
WITH attached AS (
    INSERT INTO referrals (tenant_id, referee_id, referrer_id, attached_by)
    VALUES ($1::text, $2::text, $3::text, $4::text)
    RETURNING attached_at
), noted AS (
    UPDATE members SET referral_code_used = $5::text, updated_at = now()
    WHERE tenant_id = $1::text AND member_id = $2::text
)
SELECT attached_at FROM attached;

-- name: referrer_summary
SELECT count(*) AS referred,
       count(*) FILTER (WHERE status = 'rewarded') AS rewarded,
       coalesce(sum(referrer_points) FILTER (WHERE status = 'rewarded'), 0)::bigint
           AS points_earned
FROM referrals WHERE tenant_id = $1::text AND referrer_id = $2::text;

-- name: referrer_referees
-- Newest first; keyset ($4, $5) = the last (attached_at, referee) seen.
SELECT referee_id, status, attached_at, settled_at FROM referrals
WHERE tenant_id = $1::text AND referrer_id = $2::text
  AND ($4::timestamptz IS NULL OR (attached_at, referee_id) < ($4::timestamptz, $5::text))
ORDER BY attached_at DESC, referee_id DESC
LIMIT $3::int;

-- name: referrers_of_batch
-- Referrers a hook batch may pay or claw back from: of the batch's members still pending
-- ($2), and of the purchases its refunds point at ($3). Read before the members are locked.
SELECT DISTINCT referrer_id FROM referrals
WHERE tenant_id = $1::text
  AND ((referee_id = ANY ($2::text[]) AND status = 'pending')
       OR (transaction_id = ANY ($3::text[]) AND status = 'rewarded'));

-- name: referrals_pending
-- The batch's members' pending referrals, each with a device both referee and referrer were
-- seen on (a referral ring), if any.
SELECT r.referee_id, r.referrer_id,
       (SELECT a.device FROM device_members a
        JOIN device_members b ON b.tenant_id = a.tenant_id AND b.device = a.device
                             AND b.member_id = r.referrer_id
        WHERE a.tenant_id = r.tenant_id AND a.member_id = r.referee_id
        LIMIT 1) AS shared_device
FROM referrals r
WHERE r.tenant_id = $1::text AND r.referee_id = ANY ($2::text[]) AND r.status = 'pending';

-- name: referrers_rewarded
SELECT referrer_id, count(*) AS rewarded FROM referrals
WHERE tenant_id = $1::text AND referrer_id = ANY ($2::text[]) AND status = 'rewarded'
GROUP BY referrer_id;

-- name: referrals_settle
UPDATE referrals r
SET status = u.status, reason = u.reason, transaction_id = u.transaction_id,
    referee_points = u.referee_points, referrer_points = u.referrer_points,
    settled_at = now()
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[])
     AS u(referee_id, status, reason, transaction_id, referee_points, referrer_points)
WHERE r.tenant_id = $1::text AND r.referee_id = u.referee_id
  AND r.referee_id = ANY ($2::text[]);

-- name: referral_figures
-- The program's referrals by state, with the points each state paid (the console's figures).
SELECT status, count(*) AS referrals, coalesce(sum(referee_points + referrer_points), 0) AS points
FROM referrals
WHERE tenant_id = $1::text
GROUP BY status
ORDER BY status;
