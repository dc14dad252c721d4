-- name: lots_expired_members
SELECT DISTINCT member_id FROM lots
WHERE tenant_id = $1::text AND expires_at <= $2::timestamptz AND remaining > 0
LIMIT $3::int;

-- name: lots_expired_tenants
-- The expiry job's only cross-tenant read: which tenants have points to expire.
SELECT DISTINCT tenant_id FROM lots WHERE expires_at <= $1::timestamptz AND remaining > 0;

-- name: member_balance
SELECT points_balance, lifetime_earned FROM members
WHERE tenant_id = $1::text AND member_id = $2::text;

-- name: member_lots_by_expiry
SELECT expires_at, sum(remaining)::bigint AS points,
       sum(remaining) FILTER (WHERE available_at > $3::timestamptz)::bigint AS pending
FROM lots
WHERE tenant_id = $1::text AND member_id = $2::text AND remaining > 0
GROUP BY expires_at ORDER BY expires_at NULLS LAST;

-- name: member_activity
SELECT transfer_id, debit_account, credit_account, amount, kind, transaction_id, detail,
       created_at
FROM transfers
WHERE tenant_id = $1::text AND member_id = $2::text
  AND ($3::bigint IS NULL OR transfer_id < $3::bigint)
ORDER BY transfer_id DESC
LIMIT $4::int;

-- name: liability_outstanding
SELECT coalesce(sum(points_balance), 0)::bigint AS outstanding,
       count(*) FILTER (WHERE points_balance <> 0) AS members_with_points
FROM members WHERE tenant_id = $1::text;

-- name: liability_ledger_outstanding
SELECT coalesce(sum(amount) FILTER (WHERE credit_account LIKE 'member:%'), 0)::bigint
     - coalesce(sum(amount) FILTER (WHERE debit_account LIKE 'member:%'), 0)::bigint
FROM transfers WHERE tenant_id = $1::text;

-- name: liability_daily
SELECT (created_at AT TIME ZONE $2::text)::date AS day,
       coalesce(sum(amount) FILTER (WHERE kind IN ('earn', 'draw', 'offer')), 0)::bigint
           AS issued,
       coalesce(sum(amount) FILTER (WHERE kind = 'redemption'), 0)::bigint AS redeemed,
       coalesce(sum(amount) FILTER (WHERE kind = 'redemption_cancel'), 0)::bigint
           AS redemptions_cancelled,
       coalesce(sum(amount) FILTER (WHERE kind = 'expiry'), 0)::bigint AS expired,
       coalesce(sum(amount) FILTER (WHERE kind = 'clawback'), 0)::bigint AS clawed_back,
       coalesce(sum(amount) FILTER (WHERE kind = 'adjustment'
                                      AND credit_account LIKE 'member:%'), 0)::bigint
           AS adjusted_up,
       coalesce(sum(amount) FILTER (WHERE kind = 'adjustment'
                                      AND debit_account LIKE 'member:%'), 0)::bigint
           AS adjusted_down
FROM transfers
WHERE tenant_id = $1::text
  AND created_at >= ($3::date::timestamp AT TIME ZONE $2::text)
  AND created_at < (($4::date + 1)::timestamp AT TIME ZONE $2::text)
GROUP BY 1 ORDER BY 1;

-- name: job_try_lock
-- Only one process runs a periodic job at a time; the others skip that round.
SELECT pg_try_advisory_lock($1::bigint);

-- name: job_unlock
SELECT pg_advisory_unlock($1::bigint);

-- name: job_tenants_with_tiers
SELECT tenant_id FROM programs WHERE jsonb_array_length(config -> 'tiers') > 0;
