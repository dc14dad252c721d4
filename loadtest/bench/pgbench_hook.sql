-- One single-hook purchase as the database sees it, written directly in SQL: the rows the
-- engine reads and writes for a purchase at a merchant without offers, with a draw on
-- every swipe (three in ten pay a bonus, which moves the campaign's budgets). Run by
-- loadtest.baselines with -M prepared -D tenant=<id> against the engine's own database,
-- so that the engine can be compared with PostgreSQL doing the same work and nothing else.
\set m random(0, 199999)
\set amount random(500, 80000)
\set points :amount / 100
\set tx random(1, 9000000000000000000)
\set prize random(1, 10)
BEGIN;
INSERT INTO transactions (tenant_id, transaction_id, body_hash, kind, member_id, amount_minor, currency, occurred_at, body, response) VALUES (:tenant::text, 'pgbench-' || :tx::bigint, '\x00', 'purchase', 'm-' || :m::int, :amount::bigint, 'CNY', now(), '{"kind": "purchase"}', '{}') ON CONFLICT DO NOTHING;
WITH enrolled AS (INSERT INTO members (tenant_id, member_id) VALUES (:tenant::text, 'm-' || :m::int) ON CONFLICT DO NOTHING) SELECT (SELECT rules_version FROM programs WHERE tenant_id = :tenant::text);
SELECT m.tier, m.segments, m.card_products, m.points_balance, m.lifetime_earned, l.ids, l.amounts FROM members m CROSS JOIN LATERAL (SELECT array_agg(x.lot_id ORDER BY x.lot_id) AS ids, array_agg(x.remaining ORDER BY x.lot_id) AS amounts FROM lots x WHERE x.tenant_id = m.tenant_id AND x.member_id = m.member_id AND x.remaining > 0) l WHERE m.tenant_id = :tenant::text AND m.member_id = 'm-' || :m::int FOR UPDATE OF m;
SELECT campaign_id, total_used FROM draw_campaigns WHERE tenant_id = :tenant::text;
SELECT used FROM draw_daily_usage WHERE tenant_id = :tenant::text AND day = current_date;
SELECT offer_id FROM offers WHERE tenant_id = :tenant::text AND merchant_id = 'merchant-' || :m::int AND status = 'active';
INSERT INTO transfers (tenant_id, debit_account, credit_account, amount, kind, member_id, transaction_id, detail) VALUES (:tenant::text, 'program', 'member:' || 'm-' || :m::int, :points::bigint, 'earn', 'm-' || :m::int, 'pgbench-' || :tx::bigint, '{"base": 1}'), (:tenant::text, 'campaign:' || 'every-swipe', 'member:' || 'm-' || :m::int, :points::bigint, 'draw', 'm-' || :m::int, 'pgbench-' || :tx::bigint, '{"multiplier": 2}');
INSERT INTO lots (tenant_id, member_id, amount, remaining, earned_at, available_at, expires_at) VALUES (:tenant::text, 'm-' || :m::int, 2 * :points::bigint, 2 * :points::bigint, now(), '2026-11-21', '2028-12-31') ON CONFLICT (tenant_id, member_id, expires_at, available_at) DO UPDATE SET amount = lots.amount + EXCLUDED.amount, remaining = lots.remaining + EXCLUDED.remaining;
UPDATE members SET points_balance = points_balance + 2 * :points::bigint, lifetime_earned = lifetime_earned + 2 * :points::bigint WHERE tenant_id = :tenant::text AND member_id = 'm-' || :m::int;
INSERT INTO draws (tenant_id, campaign_id, transaction_id, member_id, drawn, paid, points, proof, day) VALUES (:tenant::text, 'every-swipe', 'pgbench-' || :tx::bigint, 'm-' || :m::int, 2, 2, :points::bigint, 'proof', current_date);
UPDATE transactions SET response = '{"points": {"base": 1, "draw": 1, "total": 2}, "draw": {"multiplier": 2}}' WHERE tenant_id = :tenant::text AND transaction_id = 'pgbench-' || :tx::bigint;
INSERT INTO member_spend (tenant_id, member_id, month, spend_minor) VALUES (:tenant::text, 'm-' || :m::int, '2026-11-01', :amount::bigint) ON CONFLICT (tenant_id, member_id, month) DO UPDATE SET spend_minor = member_spend.spend_minor + EXCLUDED.spend_minor;
\if :prize <= 3
UPDATE draw_campaigns SET total_used = total_used + :points::bigint WHERE tenant_id = :tenant::text AND campaign_id = 'every-swipe';
UPDATE draw_daily_usage SET used = used + :points::bigint WHERE tenant_id = :tenant::text AND campaign_id = 'every-swipe' AND day = current_date;
\endif
COMMIT;
