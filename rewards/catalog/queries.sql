-- Named queries of rewards.catalog.repository, loaded once and called by name.

-- name: catalog_item_insert
INSERT INTO catalog_items (tenant_id, sku, definition, category, points_price,
                           cash_price_minor, stock_left, active)
VALUES ($1::text, $2::text, $3::jsonb, $4::text, $5::bigint, $6::bigint, $7::bigint,
        $8::boolean)
ON CONFLICT (tenant_id, sku) DO NOTHING
RETURNING sku;

-- name: catalog_item_update
UPDATE catalog_items
SET definition = $3::jsonb, category = $4::text, points_price = $5::bigint,
    cash_price_minor = $6::bigint, stock_left = $7::bigint, active = $8::boolean,
    updated_at = now()
WHERE tenant_id = $1::text AND sku = $2::text;

-- name: catalog_item_get
SELECT definition, stock_left, redeemed, active, created_at FROM catalog_items
WHERE tenant_id = $1::text AND sku = $2::text;

-- name: redemption_start
-- Enrolls the member if new; the item (no row: no such item) and the program's version.
WITH enrolled AS (
    INSERT INTO members (tenant_id, member_id) VALUES ($1::text, $2::text)
    ON CONFLICT (tenant_id, member_id) DO NOTHING
)
SELECT i.definition, i.stock_left, i.redeemed, i.active, i.created_at,
       coalesce((SELECT p.rules_version FROM programs p WHERE p.tenant_id = $1::text), 0)
           AS program_version
FROM catalog_items i
WHERE i.tenant_id = $1::text AND i.sku = $3::text;

-- name: catalog_item_get_for_update
SELECT definition, stock_left, redeemed, active, created_at FROM catalog_items
WHERE tenant_id = $1::text AND sku = $2::text
FOR UPDATE;

-- name: catalog_item_list
SELECT definition, stock_left, redeemed, active, created_at FROM catalog_items
WHERE tenant_id = $1::text AND ($2::text IS NULL OR category = $2::text)
  AND ($3::text IS NULL OR sku > $3::text) AND (NOT $5::boolean OR active)
ORDER BY sku LIMIT $4::int;

-- name: catalog_codes_add
WITH added AS (
    INSERT INTO catalog_codes (tenant_id, sku, code)
    SELECT $1::text, $2::text, c FROM unnest($3::text[]) AS c
    ON CONFLICT (tenant_id, sku, code) DO NOTHING
    RETURNING 1
)
UPDATE catalog_items SET stock_left = coalesce(stock_left, 0) + (SELECT count(*) FROM added),
                         updated_at = now()
WHERE tenant_id = $1::text AND sku = $2::text
RETURNING (SELECT count(*) FROM added) AS added, stock_left;

-- name: catalog_codes_take
-- Hands out the oldest available codes; SKIP LOCKED lets concurrent redemptions take
-- different codes instead of queueing on the same ones.
UPDATE catalog_codes SET status = 'issued', redemption_id = $4::text
WHERE tenant_id = $1::text AND code_id IN (
    SELECT code_id FROM catalog_codes
    WHERE tenant_id = $1::text AND sku = $2::text AND status = 'available'
    ORDER BY code_id LIMIT $3::int
    FOR UPDATE SKIP LOCKED
)
RETURNING code;

-- name: catalog_codes_void
UPDATE catalog_codes SET status = 'void'
WHERE tenant_id = $1::text AND redemption_id = $2::text;

-- name: catalog_stock_give_back
-- A cancelled redemption's stock and count, given back at COMMIT (migration 0009).
INSERT INTO budget_reservations (tenant_id, budget, key, amount, amount2)
VALUES ($1::text, 'stock', $2::text, -$3::bigint, -$4::bigint);

-- name: redemptions_used
SELECT coalesce(sum(quantity), 0)::bigint FROM redemptions
WHERE tenant_id = $1::text AND member_id = $2::text AND sku = $3::text
  AND status = 'completed' AND ($4::timestamptz IS NULL OR created_at >= $4::timestamptz);

-- name: redemptions_used_by_sku
SELECT p.sku, coalesce(sum(r.quantity), 0)::bigint AS used
FROM unnest($3::text[], $4::timestamptz[]) AS p(sku, period_start)
LEFT JOIN redemptions r
       ON r.tenant_id = $1::text AND r.member_id = $2::text AND r.sku = p.sku
      AND r.status = 'completed'
      AND (p.period_start IS NULL OR r.created_at >= p.period_start)
GROUP BY p.sku;

-- name: redemption_write
-- A redemption in one statement: the points it spends (a transfer from the member, the lots
-- they come from, the member's balance; the member is locked), the redemption itself, and
-- its stock claim, which COMMIT takes (migration 0009) or refuses with 40001 when the item
-- no longer has that much left.
WITH spent AS (
    INSERT INTO transfers (tenant_id, debit_account, credit_account, amount, kind, member_id,
                           detail)
    SELECT $1::text, $12::text, $13::text, $6::bigint, 'redemption', $3::text, $14::jsonb
    WHERE $6::bigint > 0
), lots_spent AS (
    UPDATE lots l SET remaining = l.remaining - u.points
    FROM unnest($15::bigint[], $16::bigint[]) AS u(lot_id, points)
    WHERE l.tenant_id = $1::text AND l.lot_id = u.lot_id AND l.lot_id = ANY($15::bigint[])
), balance AS (
    UPDATE members SET points_balance = points_balance - $6::bigint
    WHERE tenant_id = $1::text AND member_id = $3::text AND $6::bigint > 0
), stock_reserved AS (
    INSERT INTO budget_reservations (tenant_id, budget, key, amount, amount2)
    VALUES ($1::text, 'stock', $4::text, $5::int, $5::int)
)
INSERT INTO redemptions (tenant_id, redemption_id, member_id, sku, quantity, points_spent,
                         cash_due_minor, codes, lots_taken, status, device, cancel_until)
VALUES ($1::text, $2::text, $3::text, $4::text, $5::int, $6::bigint, $7::bigint, $8::text[],
        $9::jsonb, 'completed', $10::bytea, $11::timestamptz)
RETURNING created_at;

-- name: redemption_get_for_update
SELECT redemption_id, member_id, sku, quantity, points_spent, cash_due_minor, codes,
       lots_taken, status, created_at, cancel_until, cancelled_at
FROM redemptions
WHERE tenant_id = $1::text AND redemption_id = $2::text AND member_id = $3::text
FOR UPDATE;

-- name: redemption_list
SELECT redemption_id, member_id, sku, quantity, points_spent, cash_due_minor, codes,
       lots_taken, status, created_at, cancel_until, cancelled_at
FROM redemptions
WHERE tenant_id = $1::text AND member_id = $2::text
  AND ($3::timestamptz IS NULL OR (created_at, redemption_id) < ($3::timestamptz, $4::text))
ORDER BY created_at DESC, redemption_id DESC
LIMIT $5::int;

-- name: redemption_cancel
UPDATE redemptions SET status = 'cancelled', cancelled_at = now()
WHERE tenant_id = $1::text AND redemption_id = $2::text;

-- name: lots_restore
-- A cancelled redemption's points go back to the lots they came from (same expiry).
UPDATE lots l SET remaining = l.remaining + u.points
FROM unnest($2::bigint[], $3::bigint[]) AS u(lot_id, points)
WHERE l.tenant_id = $1::text AND l.lot_id = u.lot_id AND l.lot_id = ANY($2::bigint[]);
