-- name: transaction_claim
-- Records a hook transaction unless its id is known; a concurrent twin waits for the
-- first insert to commit or roll back, so exactly one caller gets the row back.
INSERT INTO transactions (tenant_id, transaction_id, body_hash, kind, member_id, original_id,
                          amount_minor, currency, occurred_at, body, response)
VALUES ($1::text, $2::text, $3::bytea, $4::text, $5::text, $6::text, $7::bigint, $8::text,
        $9::timestamptz, $10::jsonb, $11::jsonb)
ON CONFLICT (tenant_id, transaction_id) DO NOTHING
RETURNING transaction_id;

-- name: transaction_set_response
UPDATE transactions SET response = $3::jsonb
WHERE tenant_id = $1::text AND transaction_id = $2::text;

-- name: transaction_get
SELECT transaction_id, body_hash, response
FROM transactions WHERE tenant_id = $1::text AND transaction_id = $2::text;

-- name: transaction_detail
SELECT transaction_id, kind, member_id, original_id, amount_minor, currency, occurred_at,
       body, response, created_at
FROM transactions WHERE tenant_id = $1::text AND transaction_id = $2::text;
