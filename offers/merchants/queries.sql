-- Named queries of offers.merchants.repository, loaded once and called by name.

-- name: merchant_insert
INSERT INTO merchants (tenant_id, merchant_id, name, category)
VALUES ($1::text, $2::text, $3::text, $4::text)
ON CONFLICT (tenant_id, merchant_id) DO NOTHING
RETURNING merchant_id, name, category, created_at;

-- name: merchant_get
SELECT merchant_id, name, category, created_at
FROM merchants WHERE tenant_id = $1::text AND merchant_id = $2::text;

-- name: merchant_list
SELECT merchant_id, name, category, created_at
FROM merchants
WHERE tenant_id = $1::text AND ($2::text IS NULL OR merchant_id > $2::text)
ORDER BY merchant_id
LIMIT $3::int;

-- name: merchants_insert_many
INSERT INTO merchants (tenant_id, merchant_id, name, category)
SELECT $1::text, m.id, m.name, m.category
FROM unnest($2::text[], $3::text[], $4::text[]) AS m(id, name, category)
ON CONFLICT (tenant_id, merchant_id) DO NOTHING;

-- name: merchant_count
SELECT count(*) FROM merchants WHERE tenant_id = $1::text;
