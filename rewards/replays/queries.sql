-- Named queries of rewards.replays.repository, loaded once and called by name. A replay
-- reads in one REPEATABLE READ transaction: every figure it starts from is of one moment.

-- name: replay_window
-- The hook transactions recorded in [$2, $3): the first and last of them in the order they
-- were recorded, how many, and the latest program version they were planned under.
SELECT min(seq) AS first_seq, max(seq) AS last_seq, count(*) AS total,
       (SELECT min(seq) FROM transactions WHERE tenant_id = $1::text) AS tenant_first
FROM transactions
WHERE tenant_id = $1::text AND recorded_at >= $2::timestamptz AND recorded_at < $3::timestamptz;

-- name: replay_transactions
-- The window's transactions in the order they were recorded, with what each was answered
-- (the body as its JSON text: decoded straight into the fields it holds).
SELECT transaction_id, kind, member_id, original_id, amount_minor, currency, occurred_at,
       body::text AS body, answer, seq, recorded_at, config_version
FROM transactions
WHERE tenant_id = $1::text AND seq BETWEEN $2::bigint AND $3::bigint
  AND recorded_at >= $4::timestamptz AND recorded_at < $5::timestamptz
ORDER BY seq;

-- name: replay_answers_since
-- What the transactions recorded from $2 on were answered (and when the purchase a refund
-- points at happened): what caps and budgets have counted since the window opened.
SELECT t.member_id, t.kind, t.occurred_at, o.occurred_at AS original_at, t.answer
FROM transactions t
LEFT JOIN transactions o ON o.tenant_id = t.tenant_id AND o.transaction_id = t.original_id
WHERE t.tenant_id = $1::text AND t.seq >= $2::bigint;

-- name: replay_refunded_before
-- How much of each purchase had been refunded (or reversed) before transaction $3.
SELECT original_id, coalesce(sum(amount_minor) FILTER (WHERE kind = 'refund'), 0) AS refunded,
       bool_or(kind = 'reversal') AS reversed
FROM transactions
WHERE tenant_id = $1::text AND original_id = ANY($2::text[]) AND seq < $3::bigint
GROUP BY original_id;

-- name: replay_refunded_originals
-- The purchases that refunds of the window point at: recorded before the window (their
-- awards are loaded), or in it (the replay keeps their awards as it plans them).
SELECT DISTINCT r.original_id, o.seq < $2::bigint AS before
FROM transactions r
JOIN transactions o ON o.tenant_id = r.tenant_id AND o.transaction_id = r.original_id
WHERE r.tenant_id = $1::text AND r.seq BETWEEN $2::bigint AND $3::bigint
  AND r.original_id IS NOT NULL;

-- name: replay_window_member_changes
-- Members' attributes as they changed up to the window's end ($2), oldest first: read once
-- for a run (a member without a change had the defaults).
SELECT member_id, changed_at, tier, segments, card_products, status FROM member_changes
WHERE tenant_id = $1::text AND changed_at <= $2::timestamptz
ORDER BY member_id, changed_at, change_id;

-- name: replay_member_changes
-- The members' attributes as they changed up to $3, oldest first.
SELECT member_id, changed_at, tier, segments, card_products, status FROM member_changes
WHERE tenant_id = $1::text AND member_id = ANY($2::text[]) AND changed_at <= $3::timestamptz
ORDER BY member_id, changed_at, change_id;

-- name: replay_rule_usage
SELECT member_id, rule_id, period, points FROM rule_usage
WHERE tenant_id = $1::text AND period = ANY($2::text[]);

-- name: replay_rule_budgets
SELECT rule_id, budget_used FROM earn_rules WHERE tenant_id = $1::text AND NOT deleted;

-- name: replay_campaign_budgets
SELECT campaign_id, total_used FROM draw_campaigns WHERE tenant_id = $1::text;

-- name: replay_campaign_days
SELECT campaign_id, day, used FROM draw_daily_usage
WHERE tenant_id = $1::text AND day >= $2::date;

-- name: replay_day_points
SELECT member_id, day, points FROM member_day_points
WHERE tenant_id = $1::text AND day >= $2::date;

-- name: replay_referrals
-- Referrals that were waiting for a first purchase when the window opened, or were
-- attached in it, with how each was settled (a ring refused then is refused again).
SELECT f.referee_id, f.referrer_id, f.attached_at, f.status, f.reason
FROM referrals f
LEFT JOIN transactions t ON t.tenant_id = f.tenant_id AND t.transaction_id = f.transaction_id
WHERE f.tenant_id = $1::text AND (f.status = 'pending' OR t.seq >= $2::bigint);

-- name: replay_referrers_rewarded
-- How many referees each referrer had had rewarded before the window opened.
SELECT f.referrer_id, count(*) AS rewarded
FROM referrals f
JOIN transactions t ON t.tenant_id = f.tenant_id AND t.transaction_id = f.transaction_id
WHERE f.tenant_id = $1::text AND f.status IN ('rewarded', 'clawed_back') AND t.seq < $2::bigint
GROUP BY f.referrer_id;

-- name: replay_differences_save
-- What run $3 (baseline or draft) gave for transactions that differ from the ledger.
INSERT INTO replay_transactions (tenant_id, job_id, transaction_id, baseline, draft)
SELECT $1::text, $2::text, d.transaction_id,
       CASE WHEN $3::text = 'baseline' THEN d.answer END,
       CASE WHEN $3::text = 'draft' THEN d.answer END
FROM unnest($4::text[], $5::bytea[]) AS d(transaction_id, answer)
ON CONFLICT (tenant_id, job_id, transaction_id) DO UPDATE
SET baseline = coalesce(EXCLUDED.baseline, replay_transactions.baseline),
    draft = coalesce(EXCLUDED.draft, replay_transactions.draft);

-- name: replay_differences_clear
DELETE FROM replay_transactions WHERE tenant_id = $1::text AND job_id = $2::text;

-- name: replay_difference_get
SELECT baseline, draft FROM replay_transactions
WHERE tenant_id = $1::text AND job_id = $2::text AND transaction_id = $3::text;

-- name: replay_recorded
-- One recorded transaction, as a replay reads it.
SELECT transaction_id, kind, member_id, original_id, amount_minor, currency, occurred_at, body,
       answer, seq, recorded_at, config_version
FROM transactions WHERE tenant_id = $1::text AND transaction_id = $2::text;

-- name: replay_member_before
-- What a member's transactions recorded before $3 were answered, for purchases (or the
-- purchases refunds point at) that happened in [$4, $5): what the member's rule caps had
-- counted.
SELECT t.member_id, t.kind, t.occurred_at, o.occurred_at AS original_at, t.answer
FROM transactions t
LEFT JOIN transactions o ON o.tenant_id = t.tenant_id AND o.transaction_id = t.original_id
WHERE t.tenant_id = $1::text AND t.member_id = $2::text AND t.seq < $3::bigint
  AND coalesce(o.occurred_at, t.occurred_at) >= $4::timestamptz
  AND coalesce(o.occurred_at, t.occurred_at) < $5::timestamptz;

-- name: replay_segment_spans
-- When each of the members was in which segment, up to $3: a membership counts from when it
-- was added or its generation became the segment's members, whichever came later, until it
-- was removed or its generation was replaced (or the segment deleted).
-- (since NULL: from the start; until NULL: still.)
SELECT sm.member_id, sm.segment_id,
       nullif(greatest(sm.added_at, g.active_from), '-infinity') AS since,
       least(sm.removed_at, g.active_to) AS until
FROM segment_members sm
JOIN segment_generations g ON g.tenant_id = sm.tenant_id AND g.segment_id = sm.segment_id
                          AND g.generation = sm.generation
WHERE sm.tenant_id = $1::text AND sm.member_id = ANY($2::text[])
  AND g.active_from IS NOT NULL AND greatest(sm.added_at, g.active_from) <= $3::timestamptz;
