\set m random(0, 199999)
\set amount random(1, 800)
BEGIN;
INSERT INTO baseline_postings (account_id, amount) VALUES ('program', -:amount), ('member:' || :m, :amount);
UPDATE baseline_balances SET balance = balance + :amount WHERE account_id = 'member:' || :m;
COMMIT;
