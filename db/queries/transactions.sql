-- name: transaction_detail
SELECT transaction_id, kind, member_id, original_id, amount_minor, currency, occurred_at,
       body, response, created_at
FROM transactions WHERE tenant_id = $1::text AND transaction_id = $2::text;
