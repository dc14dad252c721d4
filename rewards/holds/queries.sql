-- Named queries of rewards.holds.repository: purchases whose points wait on a risk score.

-- name: holds_list
-- Holds of a status ($2; NULL: any), oldest first, from after the cursor ($3, $4).
SELECT transaction_id, member_id, points, remaining, score, source, status, created_at,
       decided_at, decided_by, expires_at
FROM holds
WHERE tenant_id = $1::text AND ($2::text IS NULL OR status = $2::text)
  AND ($3::timestamptz IS NULL OR (created_at, transaction_id) > ($3::timestamptz, $4::text))
ORDER BY created_at, transaction_id
LIMIT $5::int;

-- name: holds_lock
SELECT transaction_id, member_id, points, remaining, score, source, status, created_at,
       decided_at, decided_by, expires_at
FROM holds WHERE tenant_id = $1::text AND transaction_id = $2::text FOR UPDATE;

-- name: holds_decide
UPDATE holds SET status = $3::text, decided_at = now(), decided_by = $4::text
WHERE tenant_id = $1::text AND transaction_id = $2::text
RETURNING transaction_id, member_id, points, remaining, score, source, status, created_at,
          decided_at, decided_by, expires_at;

-- name: holds_parts
-- What is still held of the purchase's points, by the account that paid it: what went to
-- the `held` account from each, less what refunds gave back to it from there.
SELECT account, sum(points)::bigint AS points
FROM (
    SELECT debit_account AS account, amount AS points FROM transfers
    WHERE tenant_id = $1::text AND transaction_id = $2::text AND credit_account = 'held'
    UNION ALL
    SELECT x.credit_account, -x.amount FROM transfers x
    JOIN transactions r ON r.tenant_id = x.tenant_id AND r.transaction_id = x.transaction_id
    WHERE x.tenant_id = $1::text AND r.original_id = $2::text AND x.debit_account = 'held'
) AS moves
GROUP BY account
HAVING sum(points) > 0;
