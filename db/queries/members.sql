-- name: member_enroll
INSERT INTO members (tenant_id, member_id) VALUES ($1::text, $2::text)
ON CONFLICT (tenant_id, member_id) DO NOTHING;

-- name: member_get
SELECT member_id, tier, segments, card_products, referral_code_used, created_at
FROM members WHERE tenant_id = $1::text AND member_id = $2::text;

-- name: member_upsert
INSERT INTO members (tenant_id, member_id, tier, segments, card_products, referral_code_used)
VALUES ($1::text, $2::text, $3::text, $4::text[], $5::text[], $6::text)
ON CONFLICT (tenant_id, member_id) DO UPDATE
SET tier = EXCLUDED.tier, segments = EXCLUDED.segments, card_products = EXCLUDED.card_products,
    referral_code_used = EXCLUDED.referral_code_used, updated_at = now()
RETURNING member_id, tier, segments, card_products, referral_code_used, created_at;
