-- The minimal SQL of one award, for the baselines: one posting pair, one balance updated.

-- name: baseline_setup
CREATE TABLE IF NOT EXISTS baseline_postings (
    posting_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id text NOT NULL,
    amount     bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS baseline_balances (
    account_id text PRIMARY KEY,
    balance    bigint NOT NULL
);
INSERT INTO baseline_balances
SELECT 'member:' || n, 0 FROM generate_series(0, 199999) AS n
ON CONFLICT DO NOTHING;

-- name: baseline_award
WITH legs AS (
    INSERT INTO baseline_postings (account_id, amount)
    VALUES ('program', -$2::bigint), ($1::text, $2::bigint)
)
UPDATE baseline_balances SET balance = balance + $2::bigint WHERE account_id = $1::text;

-- name: baseline_balance
SELECT balance FROM baseline_balances WHERE account_id = $1::text;
