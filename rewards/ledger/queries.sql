-- Named queries of rewards.ledger.repository, loaded once and called by name.

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

-- name: member_open_lots
-- A member's lots with points left, soonest to expire first (those that never expire last).
SELECT lot_id, transaction_id, amount, remaining, earned_at, available_at, expires_at
FROM lots
WHERE tenant_id = $1::text AND member_id = $2::text AND remaining > 0
ORDER BY expires_at NULLS LAST, lot_id
LIMIT $3::int;

-- name: member_activity
-- The member's own movements: a held purchase's points move between the program and the
-- `held` account, and are the member's only once released.
SELECT transfer_id, debit_account, credit_account, amount, kind, transaction_id, detail,
       created_at
FROM transfers
WHERE tenant_id = $1::text AND member_id = $2::text
  AND (debit_account = 'member:' || $2::text OR credit_account = 'member:' || $2::text)
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
       coalesce(sum(amount) FILTER (WHERE kind IN ('earn', 'draw', 'offer', 'referral')), 0)::bigint
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

-- name: job_tenants_with_tiers
SELECT tenant_id FROM programs WHERE jsonb_array_length(config -> 'tiers') > 0;

-- name: members_enroll_many
-- Enrolls the members not known yet; returns the program's version (0: no program yet)
-- and the version of the tenant's exclusion lists (0: none ever).
WITH enrolled AS (
    INSERT INTO members (tenant_id, member_id)
    SELECT $1::text, m FROM unnest($2::text[]) AS m
    ON CONFLICT (tenant_id, member_id) DO NOTHING
)
SELECT coalesce((SELECT rules_version FROM programs WHERE tenant_id = $1::text), 0) AS program,
       coalesce((SELECT exclusions_version FROM tenants WHERE tenant_id = $1::text), 0)
           AS exclusions;

-- name: members_lock
-- Lock the members in id order. Their lots are read by members_read in a statement of its
-- own: under READ COMMITTED a row lock that waited sees the new member row, but anything
-- joined to it in the same statement keeps the snapshot from before the wait.
SELECT m.member_id FROM members m
WHERE m.tenant_id = $1::text AND m.member_id = ANY($2::text[])
ORDER BY m.member_id FOR UPDATE OF m;

-- name: members_read
-- The members, each with its open lots (as arrays, in lot order).
-- $3: the segments of interest (NULL: all the member's segments).
SELECT m.member_id, m.tier,
       CASE WHEN $3::text[] IS NULL THEN member_segments(m.tenant_id, m.member_id)
            ELSE ARRAY(SELECT sm.segment_id FROM segment_members sm
                       WHERE sm.tenant_id = m.tenant_id AND sm.member_id = m.member_id
                         AND sm.segment_id = ANY($3::text[]) AND sm.removed_at IS NULL
                         AND sm.generation = (SELECT s.generation FROM segments s
                                              WHERE s.tenant_id = sm.tenant_id
                                                AND s.segment_id = sm.segment_id)
                       ORDER BY 1) END AS segments,
       m.card_products, m.points_balance, m.lifetime_earned, m.status,
       l.lot_ids, l.amounts, l.remaining, l.expires, l.available
FROM members m
CROSS JOIN LATERAL (
    SELECT array_agg(x.lot_id ORDER BY x.lot_id) AS lot_ids,
           array_agg(x.amount ORDER BY x.lot_id) AS amounts,
           array_agg(x.remaining ORDER BY x.lot_id) AS remaining,
           array_agg(x.expires_at ORDER BY x.lot_id) AS expires,
           array_agg(x.available_at ORDER BY x.lot_id) AS available
    FROM lots x
    WHERE x.tenant_id = m.tenant_id AND x.member_id = m.member_id AND x.remaining > 0
) l
WHERE m.tenant_id = $1::text AND m.member_id = ANY($2::text[]);

-- name: members_set_tiers
-- Each member's tier: the highest whose threshold their spend since $3 reaches (none below
-- the lowest). Members whose tier does not change are left alone.
-- Spend carried over by an import counts as spread evenly over the twelve months up to the
-- import's month: the share of those months inside the window.
WITH spend AS (
    SELECT m.member_id, coalesce(sum(s.spend_minor), 0) AS total
    FROM unnest($2::text[]) AS m(member_id)
    LEFT JOIN member_spend s ON s.tenant_id = $1::text AND s.member_id = m.member_id
                            AND s.member_id = ANY($2::text[]) AND s.month >= $3::date
    GROUP BY m.member_id
), carried AS (
    SELECT x.member_id,
           x.opening_spend_minor * greatest(0, least(12,
               (extract(year FROM x.opening_spend_month) * 12
                + extract(month FROM x.opening_spend_month))::int
               - (extract(year FROM $3::date) * 12 + extract(month FROM $3::date))::int + 1))
           / 12 AS total
    FROM members x
    WHERE x.tenant_id = $1::text AND x.member_id = ANY($2::text[])
      AND x.opening_spend_month IS NOT NULL
), summed AS (
    SELECT spend.member_id, spend.total + coalesce(carried.total, 0) AS total
    FROM spend LEFT JOIN carried ON carried.member_id = spend.member_id
), tiers AS (
    SELECT summed.member_id,
           (SELECT t.name FROM unnest($4::text[], $5::bigint[]) AS t(name, threshold)
            WHERE t.threshold <= summed.total ORDER BY t.threshold DESC LIMIT 1) AS tier
    FROM summed
)
UPDATE members m SET tier = tiers.tier, updated_at = now()
FROM tiers
WHERE m.tenant_id = $1::text AND m.member_id = tiers.member_id AND m.member_id = ANY($2::text[])
  AND m.tier IS DISTINCT FROM tiers.tier
RETURNING m.member_id, m.tier;

-- name: member_spend_members_since
-- Members with spend in the window or just before it (whose tier may fall).
SELECT member_id FROM member_spend
WHERE tenant_id = $1::text AND month >= $2::date
UNION
SELECT member_id FROM members
WHERE tenant_id = $1::text AND opening_spend_month >= ($2::date - interval '11 months');

-- name: ledger_write
-- Everything a batch of hook transactions (or any other ledger change) writes, in one
-- statement. Each part is one JSON array of rows whose keys are the fields of the Python
-- type that plans it (rewards.ledger.repository.write names each); a part with nothing to
-- write is an empty array:
--   $2 transfers, $3 lots (a lot_id: update it to these figures; none: new points go to the
--   member's lot of the same expiry and availability, made if missing), $4 balances,
--   $5 card products members were seen paying with, $6 cap usage, $7 draws, $8 refund state
--   of originals, $9 monthly spend (refunds negative), $10 reservations, $11 outbound events,
--   $12 the hook transactions it answered, with their body hashes $13 and answers $14, and
--   the program version $15 they were planned under. Their seq is the batch's number (one
--   from the sequence) and each one's position in the batch: the order they were recorded.
-- Reservations are what the batch takes from budgets (negative: gives back) — of a rule, a
-- campaign, a campaign's day or an offer; they are added to the budgets at COMMIT, which
-- fails with 40001 if one no longer fits.
-- The hook transactions are recorded once, with their answer (and what refunds later in
-- the same batch took of them), in id order (concurrent batches wait on each other's ids in
-- one order); an id that a concurrent delivery recorded first is skipped, and the count
-- returned says so. Events are written only when the program has a webhook_url.
WITH recorded AS (
    INSERT INTO transactions (tenant_id, transaction_id, body_hash, kind, member_id,
                              original_id, amount_minor, currency, occurred_at, body, answer,
                              refunded_minor, reversed, seq, config_version)
    SELECT $1::text, r.transaction_id, b.body_hash, r.kind, r.member_id, r.original_id,
           r.amount_minor, r.currency, r.occurred_at, r.body, b.answer, r.refunded_minor,
           r.reversed, (SELECT nextval('transaction_batches')) * 65536 + r.n, $15::bigint
    FROM ROWS FROM (
             jsonb_to_recordset($12::jsonb)
             AS (transaction_id text, kind text, member_id text, original_id text,
                 amount_minor bigint, currency text, occurred_at timestamptz, body jsonb,
                 refunded_minor bigint, reversed boolean)
         ) WITH ORDINALITY
         AS r(transaction_id, kind, member_id, original_id, amount_minor, currency,
              occurred_at, body, refunded_minor, reversed, n)
    JOIN unnest($13::bytea[], $14::bytea[]) WITH ORDINALITY AS b(body_hash, answer, n)
      ON b.n = r.n
    ORDER BY r.transaction_id
    ON CONFLICT (tenant_id, transaction_id) DO NOTHING
    RETURNING 1
), transfer_rows AS (
    INSERT INTO transfers (tenant_id, debit_account, credit_account, amount, kind, member_id,
                           transaction_id, detail)
    SELECT $1::text, t.debit, t.credit, t.amount, t.kind, t.member_id, t.transaction_id,
           t.detail
    FROM jsonb_to_recordset($2::jsonb)
         AS t(debit text, credit text, amount bigint, kind text, member_id text,
              transaction_id text, detail jsonb)
), lot_rows AS (
    SELECT * FROM jsonb_to_recordset($3::jsonb)
         AS u(member_id text, lot_id bigint, amount bigint, remaining bigint,
              expires_at timestamptz, available_at timestamptz)
), lots_changed AS (
    UPDATE lots l SET amount = u.amount, remaining = u.remaining
    FROM lot_rows u
    WHERE l.tenant_id = $1::text AND l.lot_id = u.lot_id AND u.lot_id IS NOT NULL
      -- The ids as an array too: the planner then reads the few lots by their key.
      AND l.lot_id = ANY (ARRAY(SELECT (x ->> 'lot_id')::bigint
                                FROM jsonb_array_elements($3::jsonb) AS x
                                WHERE x ->> 'lot_id' IS NOT NULL))
), lots_added AS (
    INSERT INTO lots (tenant_id, member_id, amount, remaining, earned_at, available_at,
                      expires_at)
    SELECT $1::text, u.member_id, u.amount, u.remaining, now(), u.available_at, u.expires_at
    FROM lot_rows u
    WHERE u.lot_id IS NULL
    ON CONFLICT (tenant_id, member_id, expires_at, available_at) DO UPDATE
    SET amount = lots.amount + EXCLUDED.amount, remaining = lots.remaining + EXCLUDED.remaining
), learned AS (
    SELECT x.member_id, array_agg(x.product) AS products
    FROM jsonb_to_recordset($5::jsonb) AS x(member_id text, product text)
    GROUP BY x.member_id
), members_saved AS (
    UPDATE members m
    SET points_balance = u.balance,
        lifetime_earned = u.lifetime_earned,
        card_products = CASE WHEN learned.products IS NULL THEN m.card_products
                             ELSE (SELECT array_agg(DISTINCT p ORDER BY p)
                                   FROM unnest(m.card_products || learned.products) AS p) END,
        updated_at = CASE WHEN learned.products IS NULL THEN m.updated_at ELSE now() END
    FROM jsonb_to_recordset($4::jsonb)
         AS u(member_id text, balance bigint, lifetime_earned bigint)
         LEFT JOIN learned ON learned.member_id = u.member_id
    WHERE m.tenant_id = $1::text AND m.member_id = u.member_id
      AND m.member_id = ANY (ARRAY(SELECT x ->> 'member_id'
                                   FROM jsonb_array_elements($4::jsonb) AS x))
), usage_saved AS (
    INSERT INTO rule_usage (tenant_id, member_id, rule_id, period, points)
    SELECT $1::text, u.member_id, u.rule_id, u.period, u.points
    FROM jsonb_to_recordset($6::jsonb)
         AS u(member_id text, rule_id text, period text, points bigint)
    ON CONFLICT (tenant_id, member_id, rule_id, period) DO UPDATE SET points = EXCLUDED.points
), draw_rows AS (
    INSERT INTO draws (tenant_id, campaign_id, transaction_id, member_id, drawn, paid, points,
                       proof, day)
    SELECT $1::text, d.campaign_id, d.transaction_id, d.member_id, d.drawn, d.paid, d.points,
           d.proof, d.day
    FROM jsonb_to_recordset($7::jsonb)
         AS d(campaign_id text, transaction_id text, member_id text, drawn int, paid int,
              points bigint, proof text, day date)
), refunds_saved AS (
    UPDATE transactions t
    SET refunded_minor = u.refunded_minor, reversed = u.reversed
    FROM jsonb_to_recordset($8::jsonb)
         AS u(transaction_id text, refunded_minor bigint, reversed boolean)
    WHERE t.tenant_id = $1::text AND t.transaction_id = u.transaction_id
      AND t.transaction_id = ANY (ARRAY(SELECT x ->> 'transaction_id'
                                        FROM jsonb_array_elements($8::jsonb) AS x))
), spend_added AS (
    INSERT INTO member_spend (tenant_id, member_id, month, spend_minor)
    SELECT $1::text, u.member_id, u.month, sum(u.amount_minor)
    FROM jsonb_to_recordset($9::jsonb) AS u(member_id text, month date, amount_minor bigint)
    GROUP BY u.member_id, u.month
    ON CONFLICT (tenant_id, member_id, month) DO UPDATE
    SET spend_minor = member_spend.spend_minor + EXCLUDED.spend_minor
), reservations AS (
    -- Added to their budgets during COMMIT (migration 0008), in the locking order.
    INSERT INTO budget_reservations (tenant_id, budget, key, day, amount, amount2)
    SELECT $1::text, c.budget, c.key, c.day, c.amount, c.amount2
    FROM jsonb_to_recordset($10::jsonb)
         AS c(budget text, key text, day date, amount bigint, amount2 bigint)
    ORDER BY CASE c.budget WHEN 'rule' THEN 1 WHEN 'campaign' THEN 2 WHEN 'offer' THEN 3
                           ELSE 4 END,
             c.key, c.day
), events_added AS (
    INSERT INTO outbox_events (tenant_id, type, member_id, transaction_id, data)
    SELECT $1::text, e.type, e.member_id, e.transaction_id, e.data
    FROM jsonb_to_recordset($11::jsonb)
         AS e(type text, member_id text, transaction_id text, data jsonb)
    WHERE EXISTS (SELECT 1 FROM programs p
                  WHERE p.tenant_id = $1::text AND p.config ->> 'webhook_url' IS NOT NULL)
)
SELECT count(*) FROM recorded;

-- name: ledger_credit_transfers
-- Points credited to many members at once (an import's opening balances, a grant), from the
-- account $2, as transfers of kind $3, one a member ($4: [{member_id, points, detail}]). The
-- members are enrolled and locked before (members_enroll_many, members_lock); their lots
-- and balances are written by ledger_credit_lots and ledger_credit_balances.
INSERT INTO transfers (tenant_id, debit_account, credit_account, amount, kind, member_id,
                       detail)
SELECT $1::text, $2::text, 'member:' || c.member_id, c.points, $3::text, c.member_id, c.detail
FROM jsonb_to_recordset($4::jsonb) AS c(member_id text, points bigint, detail jsonb);

-- name: ledger_credit_lots
-- The lots of bulk credits ($2: [{member_id, points, earned_at, available_at, expires_at}]) go to
-- the member's lot of the same expiry and availability, made if missing (it keeps the
-- earliest earning).
INSERT INTO lots (tenant_id, member_id, amount, remaining, earned_at, available_at, expires_at)
SELECT $1::text, l.member_id, sum(l.points), sum(l.points), min(l.earned_at), l.available_at,
       l.expires_at
FROM jsonb_to_recordset($2::jsonb)
     AS l(member_id text, points bigint, earned_at timestamptz, available_at timestamptz,
          expires_at timestamptz)
GROUP BY l.member_id, l.available_at, l.expires_at
ORDER BY l.member_id, l.expires_at
ON CONFLICT (tenant_id, member_id, expires_at, available_at) DO UPDATE
SET amount = lots.amount + EXCLUDED.amount, remaining = lots.remaining + EXCLUDED.remaining,
    earned_at = least(lots.earned_at, EXCLUDED.earned_at);

-- name: ledger_credit_new_lots
-- The lots of bulk credits to members made in this transaction (who hold no lot yet):
-- inserted, merged only among themselves.
INSERT INTO lots (tenant_id, member_id, amount, remaining, earned_at, available_at, expires_at)
SELECT $1::text, l.member_id, sum(l.points), sum(l.points), min(l.earned_at), l.available_at,
       l.expires_at
FROM jsonb_to_recordset($2::jsonb)
     AS l(member_id text, points bigint, earned_at timestamptz, available_at timestamptz,
          expires_at timestamptz)
GROUP BY l.member_id, l.available_at, l.expires_at
ORDER BY l.member_id, l.expires_at;

-- name: ledger_credit_balances
UPDATE members m
SET points_balance = m.points_balance + c.points,
    lifetime_earned = m.lifetime_earned + c.points
FROM jsonb_to_recordset($2::jsonb) AS c(member_id text, points bigint)
WHERE m.tenant_id = $1::text AND m.member_id = c.member_id AND m.member_id = ANY($3::text[]);
