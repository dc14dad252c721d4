-- Statements of merchant-funded offers (migration 0026). A record belongs to the period of
-- its purchase's day until a close settles it (settled = the period that closed it).

-- name: settlement_periods
SELECT period, status, job_id, closed_at FROM settlement_periods
WHERE tenant_id = $1::text ORDER BY period;

-- name: settlement_period_take
INSERT INTO settlement_periods (tenant_id, period, status, job_id)
VALUES ($1::text, $2::date, 'closing', $3::text)
ON CONFLICT DO NOTHING
RETURNING period;

-- name: settlement_earlier_open
-- Whether records of a period before $2 are still open while their own period is not
-- closed (those of a closed period go to the first open one).
SELECT EXISTS (
    SELECT 1 FROM offer_redemptions r
    WHERE r.tenant_id = $1::text AND r.settled IS NULL AND r.day < $2::date
      AND NOT EXISTS (SELECT 1 FROM settlement_periods p
                      WHERE p.tenant_id = r.tenant_id
                        AND p.period = date_trunc('month', r.day)::date)
);

-- name: settlement_merchants_after
SELECT merchant_id FROM merchants
WHERE tenant_id = $1::text AND ($2::text IS NULL OR merchant_id > $2::text)
ORDER BY merchant_id LIMIT $3::int;

-- name: settlement_settle
-- The open records of these merchants from purchases before $4 now belong to period $2.
UPDATE offer_redemptions SET settled = $2::date
WHERE tenant_id = $1::text AND settled IS NULL AND merchant_id = ANY($3::text[])
  AND day < $4::date;

-- name: settlement_lines_settled
-- The lines of these merchants' statements of period $2, merchant by merchant, each in
-- statement order.
SELECT r.merchant_id, statement_line(r) AS line, r.reward_minor, r.merchant_share_minor,
       r.fee_minor
FROM offer_redemptions r
WHERE r.tenant_id = $1::text AND r.settled = $2::date AND r.merchant_id = ANY($3::text[])
ORDER BY r.merchant_id, r.occurred_at, r.transaction_id, r.offer_id;

-- name: statements_insert
INSERT INTO statements (tenant_id, period, merchant_id, lines, reward_minor,
                        merchant_due_minor, program_due_minor, fees_minor, sha256)
SELECT $1::text, $2::date, s.merchant_id, s.lines, s.reward, s.merchant_due, s.program_due,
       s.fees, s.sha256
FROM unnest($3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[],
            $9::text[])
     AS s(merchant_id, lines, reward, merchant_due, program_due, fees, sha256);

-- name: settlement_period_closed
UPDATE settlement_periods SET status = 'closed', closed_at = now()
WHERE tenant_id = $1::text AND period = $2::date;

-- name: statement_closed_get
SELECT period, merchant_id, lines, reward_minor, merchant_due_minor, program_due_minor,
       fees_minor, sha256, closed_at
FROM statements
WHERE tenant_id = $1::text AND merchant_id = $2::text AND period = $3::date;

-- name: statements_closed_of_merchant
SELECT period, merchant_id, lines, reward_minor, merchant_due_minor, program_due_minor,
       fees_minor, sha256, closed_at
FROM statements
WHERE tenant_id = $1::text AND merchant_id = $2::text
ORDER BY period DESC;

-- name: statements_open_of_merchant
-- A merchant's open records by the period of their purchase.
SELECT date_trunc('month', day)::date AS period, count(*) AS lines,
       sum(reward_minor)::bigint AS reward_minor,
       sum(merchant_share_minor)::bigint AS merchant_due_minor,
       sum(reward_minor - merchant_share_minor)::bigint AS program_due_minor,
       sum(fee_minor)::bigint AS fees_minor
FROM offer_redemptions
WHERE tenant_id = $1::text AND merchant_id = $2::text AND settled IS NULL
GROUP BY 1 ORDER BY 1;

-- name: statement_lines_closed
SELECT statement_line(r) AS line, r.reward_minor, r.merchant_share_minor, r.fee_minor
FROM offer_redemptions r
WHERE r.tenant_id = $1::text AND r.merchant_id = $2::text AND r.settled = $3::date
ORDER BY r.occurred_at, r.transaction_id, r.offer_id;

-- name: statement_lines_open
-- An open statement's lines: the merchant's open records from purchases in [$3, $4).
SELECT statement_line(r) AS line, r.reward_minor, r.merchant_share_minor, r.fee_minor
FROM offer_redemptions r
WHERE r.tenant_id = $1::text AND r.merchant_id = $2::text AND r.settled IS NULL
  AND r.day >= $3::date AND r.day < $4::date
ORDER BY r.occurred_at, r.transaction_id, r.offer_id;

-- name: settlement_statements_closed
-- The statements of period $2 closed so far, by merchant, after $3.
SELECT period, merchant_id, lines, reward_minor, merchant_due_minor, program_due_minor,
       fees_minor, sha256, closed_at
FROM statements
WHERE tenant_id = $1::text AND period = $2::date
  AND ($3::text IS NULL OR merchant_id > $3::text)
ORDER BY merchant_id LIMIT $4::int;

-- name: settlement_statements_open
-- Open statements by merchant, after $5: the open records from purchases in [$2, $3).
SELECT $4::date AS period, merchant_id, count(*) AS lines,
       sum(reward_minor)::bigint AS reward_minor,
       sum(merchant_share_minor)::bigint AS merchant_due_minor,
       sum(reward_minor - merchant_share_minor)::bigint AS program_due_minor,
       sum(fee_minor)::bigint AS fees_minor
FROM offer_redemptions
WHERE tenant_id = $1::text AND settled IS NULL AND day >= $2::date AND day < $3::date
  AND ($5::text IS NULL OR merchant_id > $5::text)
GROUP BY merchant_id ORDER BY merchant_id LIMIT $6::int;
