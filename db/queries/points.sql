-- name: program_get
SELECT config, rules_version FROM programs WHERE tenant_id = $1::text;

-- name: program_put
INSERT INTO programs (tenant_id, config) VALUES ($1::text, $2::jsonb)
ON CONFLICT (tenant_id) DO UPDATE
SET config = EXCLUDED.config, rules_version = programs.rules_version + 1, updated_at = now()
RETURNING config;

-- name: program_bump_rules_version
INSERT INTO programs (tenant_id, config) VALUES ($1::text, $2::jsonb)
ON CONFLICT (tenant_id) DO UPDATE SET rules_version = programs.rules_version + 1;

-- name: earn_rules_all
SELECT definition, budget_used FROM earn_rules
WHERE tenant_id = $1::text AND NOT deleted ORDER BY rule_id;

-- name: earn_rule_get
SELECT definition, budget_used FROM earn_rules
WHERE tenant_id = $1::text AND rule_id = $2::text AND NOT deleted;

-- name: earn_rule_list
SELECT definition, budget_used FROM earn_rules
WHERE tenant_id = $1::text AND NOT deleted AND ($2::text IS NULL OR rule_id > $2::text)
ORDER BY rule_id LIMIT $3::int;

-- name: earn_rule_insert
INSERT INTO earn_rules (tenant_id, rule_id, definition, active)
VALUES ($1::text, $2::text, $3::jsonb, $4::boolean)
ON CONFLICT (tenant_id, rule_id) DO UPDATE
SET definition = EXCLUDED.definition, active = EXCLUDED.active, deleted = false,
    budget_used = 0, updated_at = now()
WHERE earn_rules.deleted
RETURNING rule_id;

-- name: earn_rule_update
UPDATE earn_rules SET definition = $3::jsonb, active = $4::boolean, updated_at = now()
WHERE tenant_id = $1::text AND rule_id = $2::text AND NOT deleted
RETURNING rule_id;

-- name: earn_rule_delete
UPDATE earn_rules SET deleted = true, active = false, updated_at = now()
WHERE tenant_id = $1::text AND rule_id = $2::text AND NOT deleted
RETURNING rule_id;

-- name: earn_rules_lock_budgets
SELECT rule_id, budget_used FROM earn_rules
WHERE tenant_id = $1::text AND rule_id = ANY($2::text[])
ORDER BY rule_id FOR UPDATE;

-- name: rule_usage_load
SELECT member_id, rule_id, period, points FROM rule_usage
WHERE tenant_id = $1::text AND member_id = ANY($2::text[]) AND rule_id = ANY($3::text[])
  AND period = ANY($4::text[]);

-- name: rule_usage_save
INSERT INTO rule_usage (tenant_id, member_id, rule_id, period, points)
SELECT $1::text, u.member_id, u.rule_id, u.period, u.points
FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[]) AS u(member_id, rule_id, period, points)
ON CONFLICT (tenant_id, member_id, rule_id, period) DO UPDATE SET points = EXCLUDED.points;

-- name: campaigns_all
SELECT definition, secret, commitment, total_used, created_at FROM draw_campaigns
WHERE tenant_id = $1::text ORDER BY campaign_id;

-- name: campaign_get
SELECT definition, secret, commitment, total_used, created_at FROM draw_campaigns
WHERE tenant_id = $1::text AND campaign_id = $2::text;

-- name: campaign_list
SELECT definition, secret, commitment, total_used, created_at FROM draw_campaigns
WHERE tenant_id = $1::text AND ($2::text IS NULL OR campaign_id > $2::text)
ORDER BY campaign_id LIMIT $3::int;

-- name: campaign_insert
INSERT INTO draw_campaigns (tenant_id, campaign_id, definition, secret, commitment,
                            starts_at, ends_at)
VALUES ($1::text, $2::text, $3::jsonb, $4::bytea, $5::text, $6::timestamptz, $7::timestamptz)
ON CONFLICT (tenant_id, campaign_id) DO NOTHING
RETURNING campaign_id;

-- name: campaigns_lock_budgets
SELECT campaign_id, total_used FROM draw_campaigns
WHERE tenant_id = $1::text AND campaign_id = ANY($2::text[])
ORDER BY campaign_id FOR UPDATE;

-- name: campaign_daily_load
SELECT campaign_id, day, used FROM draw_daily_usage
WHERE tenant_id = $1::text AND campaign_id = ANY($2::text[]) AND day = ANY($3::date[]);

-- name: campaign_stats
SELECT coalesce(sum(n), 0)::bigint AS draws, coalesce(sum(paid_points), 0)::bigint AS bonus_paid,
       coalesce(jsonb_object_agg(paid, n) FILTER (WHERE paid IS NOT NULL), '{}') AS prize_counts
FROM (
    SELECT paid, count(*) AS n, sum(points) AS paid_points
    FROM draws WHERE tenant_id = $1::text AND campaign_id = $2::text
    GROUP BY paid
) d;

-- name: campaign_draws
SELECT transaction_id, drawn, paid, points, proof FROM draws
WHERE tenant_id = $1::text AND campaign_id = $2::text
ORDER BY transaction_id;

-- name: draws_insert
INSERT INTO draws (tenant_id, campaign_id, transaction_id, member_id, drawn, paid, points,
                   proof, day)
SELECT $1::text, d.campaign_id, d.transaction_id, d.member_id, d.drawn, d.paid, d.points,
       d.proof, d.day
FROM unnest($2::text[], $3::text[], $4::text[], $5::int[], $6::int[], $7::bigint[],
            $8::text[], $9::date[])
     AS d(campaign_id, transaction_id, member_id, drawn, paid, points, proof, day);

-- name: transactions_claim_many
-- Records each transaction unless its id is known; returns the ids this call recorded.
-- Ids come sorted so that concurrent batches take their locks in the same order.
INSERT INTO transactions (tenant_id, transaction_id, body_hash, kind, member_id, original_id,
                          amount_minor, currency, occurred_at, body, response)
SELECT $1::text, t.id, t.hash, t.kind, t.member_id, t.original_id, t.amount, t.currency,
       t.occurred_at, t.body, '{}'::jsonb
FROM unnest($2::text[], $3::bytea[], $4::text[], $5::text[], $6::text[], $7::bigint[],
            $8::text[], $9::timestamptz[], $10::jsonb[])
     AS t(id, hash, kind, member_id, original_id, amount, currency, occurred_at, body)
ON CONFLICT (tenant_id, transaction_id) DO NOTHING
RETURNING transaction_id;

-- name: transactions_known
SELECT transaction_id, body_hash, response FROM transactions
WHERE tenant_id = $1::text AND transaction_id = ANY($2::text[]);

-- name: transactions_lock_originals
SELECT transaction_id, member_id, kind, amount_minor, currency, refunded_minor, reversed,
       occurred_at, response
FROM transactions
WHERE tenant_id = $1::text AND transaction_id = ANY($2::text[])
ORDER BY transaction_id FOR UPDATE;

-- name: transactions_save
UPDATE transactions t
SET response = coalesce(u.response, t.response),
    refunded_minor = coalesce(u.refunded_minor, t.refunded_minor),
    reversed = coalesce(u.reversed, t.reversed)
FROM unnest($2::text[], $3::jsonb[], $4::bigint[], $5::boolean[])
     AS u(transaction_id, response, refunded_minor, reversed)
WHERE t.tenant_id = $1::text AND t.transaction_id = u.transaction_id;

-- name: transactions_forget
-- Items of a batch that failed leave no trace, so that a corrected retry can succeed.
DELETE FROM transactions WHERE tenant_id = $1::text AND transaction_id = ANY($2::text[]);

-- name: members_enroll_many
INSERT INTO members (tenant_id, member_id)
SELECT $1::text, m FROM unnest($2::text[]) AS m
ON CONFLICT (tenant_id, member_id) DO NOTHING;

-- name: members_lock
SELECT member_id, tier, segments, card_products, points_balance, lifetime_earned
FROM members
WHERE tenant_id = $1::text AND member_id = ANY($2::text[])
ORDER BY member_id FOR UPDATE;

-- name: members_read
SELECT member_id, tier, segments, card_products, points_balance, lifetime_earned
FROM members
WHERE tenant_id = $1::text AND member_id = ANY($2::text[]);

-- name: members_set_balances
UPDATE members m SET points_balance = u.balance, lifetime_earned = u.lifetime
FROM unnest($2::text[], $3::bigint[], $4::bigint[]) AS u(member_id, balance, lifetime)
WHERE m.tenant_id = $1::text AND m.member_id = u.member_id;

-- name: lots_open
SELECT lot_id, member_id, amount, remaining, expires_at, available_at FROM lots
WHERE tenant_id = $1::text AND member_id = ANY($2::text[]) AND remaining > 0;

-- name: lots_set
UPDATE lots l SET amount = u.amount, remaining = u.remaining
FROM unnest($2::bigint[], $3::bigint[], $4::bigint[]) AS u(lot_id, amount, remaining)
WHERE l.tenant_id = $1::text AND l.lot_id = u.lot_id;

-- name: lots_add
-- New points go to the member's lot of the same expiry and availability, made if missing.
INSERT INTO lots (tenant_id, member_id, amount, remaining, earned_at, available_at, expires_at)
SELECT $1::text, u.member_id, u.amount, u.remaining, now(), u.available_at, u.expires_at
FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::timestamptz[], $6::timestamptz[])
     AS u(member_id, amount, remaining, available_at, expires_at)
ON CONFLICT (tenant_id, member_id, expires_at, available_at) DO UPDATE
SET amount = lots.amount + EXCLUDED.amount, remaining = lots.remaining + EXCLUDED.remaining;

-- name: transfers_insert
INSERT INTO transfers (tenant_id, debit_account, credit_account, amount, kind, member_id,
                       transaction_id, detail)
SELECT $1::text, t.debit, t.credit, t.amount, t.kind, t.member_id, t.transaction_id, t.detail
FROM unnest($2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[],
            $8::jsonb[]) AS t(debit, credit, amount, kind, member_id, transaction_id, detail);

-- name: earn_rules_read_budgets
SELECT rule_id, budget_used FROM earn_rules
WHERE tenant_id = $1::text AND rule_id = ANY($2::text[]);

-- name: earn_rules_reserve_budgets
-- Adds what a batch paid (or released) to each rule's budget unless that passes the cap;
-- returns the rules it could add to. Evaluated on the latest committed row, so two batches
-- can never both take the last points.
UPDATE earn_rules r SET budget_used = greatest(r.budget_used + u.delta, 0)
FROM unnest($2::text[], $3::bigint[]) AS u(rule_id, delta)
WHERE r.tenant_id = $1::text AND r.rule_id = u.rule_id
  AND (u.delta <= 0
       OR r.definition #>> '{caps,budget_points}' IS NULL
       OR r.budget_used + u.delta <= (r.definition #>> '{caps,budget_points}')::bigint)
RETURNING r.rule_id;

-- name: campaigns_read_budgets
SELECT campaign_id, total_used FROM draw_campaigns
WHERE tenant_id = $1::text AND campaign_id = ANY($2::text[]);

-- name: campaigns_reserve_totals
UPDATE draw_campaigns c SET total_used = greatest(c.total_used + u.delta, 0)
FROM unnest($2::text[], $3::bigint[]) AS u(campaign_id, delta)
WHERE c.tenant_id = $1::text AND c.campaign_id = u.campaign_id
  AND (u.delta <= 0
       OR c.definition #>> '{budget,total_points}' IS NULL
       OR c.total_used + u.delta <= (c.definition #>> '{budget,total_points}')::bigint)
RETURNING c.campaign_id;

-- name: campaign_daily_open
INSERT INTO draw_daily_usage (tenant_id, campaign_id, day, used)
SELECT $1::text, u.campaign_id, u.day, 0
FROM unnest($2::text[], $3::date[]) AS u(campaign_id, day)
ON CONFLICT (tenant_id, campaign_id, day) DO NOTHING;

-- name: campaign_daily_reserve
UPDATE draw_daily_usage d SET used = greatest(d.used + u.delta, 0)
FROM unnest($2::text[], $3::date[], $4::bigint[]) AS u(campaign_id, day, delta),
     draw_campaigns c
WHERE d.tenant_id = $1::text AND d.campaign_id = u.campaign_id AND d.day = u.day
  AND c.tenant_id = d.tenant_id AND c.campaign_id = d.campaign_id
  AND (u.delta <= 0
       OR c.definition #>> '{budget,daily_points}' IS NULL
       OR d.used + u.delta <= (c.definition #>> '{budget,daily_points}')::bigint)
RETURNING d.campaign_id;

-- name: members_add_card_products
-- Members learn the card products they are seen paying with.
UPDATE members m
SET card_products = (SELECT array_agg(DISTINCT p ORDER BY p)
                     FROM unnest(m.card_products || u.products) AS p),
    updated_at = now()
FROM (SELECT member_id, array_agg(product) AS products
      FROM unnest($2::text[], $3::text[]) AS x(member_id, product)
      GROUP BY member_id) u
WHERE m.tenant_id = $1::text AND m.member_id = u.member_id;

-- name: member_spend_add
INSERT INTO member_spend (tenant_id, member_id, month, spend_minor)
SELECT $1::text, u.member_id, u.month, sum(u.amount)
FROM unnest($2::text[], $3::date[], $4::bigint[]) AS u(member_id, month, amount)
GROUP BY u.member_id, u.month
ON CONFLICT (tenant_id, member_id, month) DO UPDATE
SET spend_minor = member_spend.spend_minor + EXCLUDED.spend_minor;

-- name: members_set_tiers
-- Each member's tier: the highest whose threshold their spend since $3 reaches (none below
-- the lowest). Members whose tier does not change are left alone.
WITH spend AS (
    SELECT m.member_id, coalesce(sum(s.spend_minor), 0) AS total
    FROM unnest($2::text[]) AS m(member_id)
    LEFT JOIN member_spend s ON s.tenant_id = $1::text AND s.member_id = m.member_id
                            AND s.month >= $3::date
    GROUP BY m.member_id
), tiers AS (
    SELECT spend.member_id,
           (SELECT t.name FROM unnest($4::text[], $5::bigint[]) AS t(name, threshold)
            WHERE t.threshold <= spend.total ORDER BY t.threshold DESC LIMIT 1) AS tier
    FROM spend
)
UPDATE members m SET tier = tiers.tier, updated_at = now()
FROM tiers
WHERE m.tenant_id = $1::text AND m.member_id = tiers.member_id
  AND m.tier IS DISTINCT FROM tiers.tier
RETURNING m.member_id, m.tier;

-- name: member_spend_members_since
-- Members with spend in the window or just before it (whose tier may fall).
SELECT DISTINCT member_id FROM member_spend
WHERE tenant_id = $1::text AND month >= $2::date;
