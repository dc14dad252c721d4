-- One batch hook call of 1,000 purchases as the database sees it, written directly in SQL:
-- the rows the engine reads and writes for them (the transactions recorded and answered,
-- members enrolled and locked with their lots, two transfers for the three in ten whose
-- draw pays a bonus and one for the others, a lot, a balance and a month's spend per
-- member, a draw per purchase, the campaign's budgets). Members are skewed as in
-- loadtest.hook_load. Run by loadtest.baselines with -D tenant=<id> against the engine's
-- own database: PostgreSQL's ceiling for the batch hook's writes, with no service at all.
\set b random(1, 9000000000000000000)
BEGIN;
CREATE TEMP TABLE batch ON COMMIT DROP AS
SELECT 'pgbench-' || :b::bigint || '-' || g AS tx,
       'm-' || floor(200000 * random() ^ 2)::int AS member,
       (500 + floor(random() * 79500))::bigint AS amount,
       random() < 0.3 AS bonus
FROM generate_series(1, 1000) AS g;
INSERT INTO transactions (tenant_id, transaction_id, body_hash, kind, member_id, amount_minor, currency, occurred_at, body, response)
SELECT :tenant::text, tx, '\x00', 'purchase', member, amount, 'CNY', now(), '{"kind": "purchase"}', '{}' FROM batch
ON CONFLICT DO NOTHING;
INSERT INTO members (tenant_id, member_id) SELECT DISTINCT :tenant::text, member FROM batch ON CONFLICT DO NOTHING;
SELECT count(*) FROM (SELECT m.points_balance FROM members m WHERE m.tenant_id = :tenant::text AND m.member_id IN (SELECT member FROM batch) ORDER BY m.member_id FOR UPDATE) AS locked;
SELECT count(*) FROM lots WHERE tenant_id = :tenant::text AND member_id IN (SELECT member FROM batch) AND remaining > 0;
SELECT campaign_id, total_used FROM draw_campaigns WHERE tenant_id = :tenant::text;
SELECT used FROM draw_daily_usage WHERE tenant_id = :tenant::text AND day = current_date;
INSERT INTO transfers (tenant_id, debit_account, credit_account, amount, kind, member_id, transaction_id, detail)
SELECT :tenant::text, 'program', 'member:' || member, amount / 100, 'earn', member, tx, '{"base": 1}'::jsonb FROM batch
UNION ALL
SELECT :tenant::text, 'campaign:' || 'every-swipe', 'member:' || member, amount / 100, 'draw', member, tx, '{"multiplier": 2}'::jsonb FROM batch WHERE bonus;
INSERT INTO lots (tenant_id, member_id, amount, remaining, earned_at, available_at, expires_at)
SELECT :tenant::text, member, sum(amount / 100 * (1 + bonus::int)), sum(amount / 100 * (1 + bonus::int)), now(), '2026-11-21'::timestamptz, '2028-12-31'::timestamptz FROM batch GROUP BY member
ON CONFLICT (tenant_id, member_id, expires_at, available_at) DO UPDATE SET amount = lots.amount + EXCLUDED.amount, remaining = lots.remaining + EXCLUDED.remaining;
UPDATE members m SET points_balance = m.points_balance + s.points, lifetime_earned = m.lifetime_earned + s.points
FROM (SELECT member, sum(amount / 100 * (1 + bonus::int)) AS points FROM batch GROUP BY member) AS s
WHERE m.tenant_id = :tenant::text AND m.member_id = s.member;
INSERT INTO draws (tenant_id, campaign_id, transaction_id, member_id, drawn, paid, points, proof, day)
SELECT :tenant::text, 'every-swipe', tx, member, 1 + bonus::int, 1 + bonus::int, bonus::int * amount / 100, 'proof', current_date FROM batch;
UPDATE transactions t SET response = '{"points": {"base": 1, "draw": 1, "total": 2}, "draw": {"multiplier": 2}}'
FROM batch WHERE t.tenant_id = :tenant::text AND t.transaction_id = batch.tx;
INSERT INTO member_spend (tenant_id, member_id, month, spend_minor)
SELECT :tenant::text, member, '2026-11-01'::date, sum(amount) FROM batch GROUP BY member
ON CONFLICT (tenant_id, member_id, month) DO UPDATE SET spend_minor = member_spend.spend_minor + EXCLUDED.spend_minor;
UPDATE draw_campaigns SET total_used = total_used + (SELECT sum(amount / 100) FROM batch WHERE bonus) WHERE tenant_id = :tenant::text AND campaign_id = 'every-swipe';
UPDATE draw_daily_usage SET used = used + (SELECT sum(amount / 100) FROM batch WHERE bonus) WHERE tenant_id = :tenant::text AND campaign_id = 'every-swipe' AND day = current_date;
COMMIT;
