-- Named queries of rewards.hook.repository, loaded once and called by name.

-- name: earn_rules_lock_budgets
SELECT rule_id, budget_used FROM earn_rules
WHERE tenant_id = $1::text AND rule_id = ANY($2::text[])
ORDER BY rule_id FOR UPDATE;

-- name: rule_usage_load
SELECT member_id, rule_id, period, points FROM rule_usage
WHERE tenant_id = $1::text AND member_id = ANY($2::text[]) AND rule_id = ANY($3::text[])
  AND period = ANY($4::text[]);

-- name: campaigns_lock_budgets
SELECT campaign_id, total_used FROM draw_campaigns
WHERE tenant_id = $1::text AND campaign_id = ANY($2::text[])
ORDER BY campaign_id FOR UPDATE;

-- name: campaign_daily_load
SELECT campaign_id, day, used FROM draw_daily_usage
WHERE tenant_id = $1::text AND campaign_id = ANY($2::text[]) AND day = ANY($3::date[]);

-- name: transactions_known
SELECT transaction_id, body_hash, answer FROM transactions
WHERE tenant_id = $1::text AND transaction_id = ANY($2::text[]);

-- name: transactions_lock
-- The transactions refunds point at, locked in id order (their awards are read next).
SELECT transaction_id FROM transactions
WHERE tenant_id = $1::text AND transaction_id = ANY($2::text[])
ORDER BY transaction_id FOR UPDATE;

-- name: transactions_awards
-- Recorded transactions with what the ledger recorded of each: its earn transfer's detail
-- (base and rule points), its draws (of the campaigns $3), its offer redemptions — what a
-- refund claws back in proportion — and the referral bonuses it paid (clawed back by a full
-- refund).
SELECT t.transaction_id, t.member_id, t.kind, t.amount_minor, t.currency, t.refunded_minor,
       t.reversed, t.occurred_at,
       (SELECT x.detail FROM transfers x
        WHERE x.tenant_id = t.tenant_id AND x.transaction_id = t.transaction_id
          AND x.kind = 'earn') AS earned,
       coalesce((SELECT jsonb_agg(jsonb_build_array(d.campaign_id, d.paid, d.drawn, d.points,
                                                    d.proof) ORDER BY d.campaign_id)
                 FROM draws d
                 WHERE d.tenant_id = t.tenant_id AND d.campaign_id = ANY($3::text[])
                   AND d.transaction_id = t.transaction_id), '[]') AS draws,
       coalesce((SELECT jsonb_agg(jsonb_build_array(r.offer_id, o.merchant_id, r.reward_minor,
                                                    r.points) ORDER BY r.offer_id)
                 FROM offer_redemptions r
                 JOIN offers o ON o.tenant_id = r.tenant_id AND o.offer_id = r.offer_id
                 WHERE r.tenant_id = t.tenant_id AND r.transaction_id = t.transaction_id
                   AND r.original_id IS NULL), '[]') AS offers,
       (SELECT jsonb_build_array(f.referrer_id, f.referee_points, f.referrer_points)
        FROM referrals f
        WHERE f.tenant_id = t.tenant_id AND f.transaction_id = t.transaction_id
          AND f.status = 'rewarded') AS referral,
       coalesce((SELECT h.remaining FROM holds h
                 WHERE h.tenant_id = t.tenant_id AND h.transaction_id = t.transaction_id
                   AND h.status = 'held'), 0) AS held
FROM transactions t
WHERE t.tenant_id = $1::text AND t.transaction_id = ANY($2::text[]);

-- name: earn_rules_read_budgets
SELECT rule_id, budget_used FROM earn_rules
WHERE tenant_id = $1::text AND rule_id = ANY($2::text[]);

-- name: campaigns_read_budgets
SELECT campaign_id, total_used FROM draw_campaigns
WHERE tenant_id = $1::text AND campaign_id = ANY($2::text[]);

-- name: database_plan_each_call
-- For this transaction only: plan each statement for its actual arrays. Large batches get
-- better plans that way, and the planning is paid once for their many rows.
SELECT set_config('plan_cache_mode', 'force_custom_plan', true);

-- name: transaction_detail
SELECT transaction_id, kind, member_id, original_id, amount_minor, currency, occurred_at,
       body, answer, created_at
FROM transactions WHERE tenant_id = $1::text AND transaction_id = $2::text;

-- name: member_day_points_load
SELECT d.member_id, d.day, d.points FROM member_day_points d
WHERE d.tenant_id = $1::text AND d.member_id = ANY ($2::text[]) AND d.day = ANY ($3::date[]);

-- name: member_day_points_save
INSERT INTO member_day_points (tenant_id, member_id, day, points)
SELECT $1::text, u.member_id, u.day, u.points
FROM unnest($2::text[], $3::date[], $4::bigint[]) AS u(member_id, day, points)
ON CONFLICT (tenant_id, member_id, day) DO UPDATE SET points = EXCLUDED.points;

-- name: holds_add
-- Purchases held on their risk score ($2: [{transaction_id, member_id, points, parts, score,
-- source, expires_at, remaining}]); one refunded in full in the same batch is `refunded`.
INSERT INTO holds (tenant_id, transaction_id, member_id, points, remaining, parts, score,
                   source, expires_at, status)
SELECT $1::text, h.transaction_id, h.member_id, h.points, h.remaining, h.parts, h.score,
       h.source, h.expires_at, CASE WHEN h.remaining = 0 THEN 'refunded' ELSE 'held' END
FROM jsonb_to_recordset($2::jsonb)
     AS h(transaction_id text, member_id text, points bigint, remaining bigint, parts jsonb,
          score int, source text, expires_at timestamptz);

-- name: holds_change
-- What refunds left held ($3) of held purchases ($2); a hold refunded in full is over.
UPDATE holds h
SET remaining = c.remaining,
    status = CASE WHEN c.remaining = 0 THEN 'refunded' ELSE h.status END,
    decided_at = CASE WHEN c.remaining = 0 THEN now() ELSE h.decided_at END
FROM unnest($2::text[], $3::bigint[]) AS c(transaction_id, remaining)
WHERE h.tenant_id = $1::text AND h.transaction_id = c.transaction_id AND h.status = 'held';
