-- Named queries of rewards.imports.repository, loaded once and called by name.

-- name: import_members_lock
-- The members of a chunk that exist, locked in id order (as every writer of balances locks).
SELECT member_id FROM members
WHERE tenant_id = $1::text AND member_id = ANY($2::text[])
ORDER BY member_id FOR UPDATE;

-- name: import_priors
-- The line each member was last imported from.
SELECT member_id, job_id, line, digest, lots_digest FROM member_imports
WHERE tenant_id = $1::text AND member_id = ANY($2::text[]);

-- name: import_referrers
SELECT referee_id, referrer_id FROM referrals
WHERE tenant_id = $1::text AND referee_id = ANY($2::text[]);

-- name: import_members_update
-- The attributes the lines said (a field not said is left as it is); the spend of the twelve
-- months before the import is counted as of the import's month $3.
UPDATE members m
SET tier = CASE WHEN u.has_tier THEN u.tier ELSE m.tier END,
    card_products = coalesce(u.card_products, m.card_products),
    status = coalesce(u.status, m.status),
    opening_spend_minor = coalesce(u.spend, m.opening_spend_minor),
    opening_spend_month = CASE WHEN u.spend IS NULL THEN m.opening_spend_month
                               ELSE $3::date END,
    updated_at = now()
FROM jsonb_to_recordset($2::jsonb)
     AS u(member_id text, has_tier boolean, tier text, card_products text[], status text,
          spend bigint)
WHERE m.tenant_id = $1::text AND m.member_id = u.member_id
  AND m.member_id = ANY($4::text[]);

-- name: import_records_save
-- The line each member was imported from ($3: [{member_id, line, digest, lots_digest}],
-- the hashes in hex).
INSERT INTO member_imports (tenant_id, member_id, job_id, line, digest, lots_digest)
SELECT $1::text, r.member_id, $2::text, r.line, decode(r.digest, 'hex'),
       decode(r.lots_digest, 'hex')
FROM jsonb_to_recordset($3::jsonb) AS r(member_id text, line bigint, digest text,
                                        lots_digest text)
ORDER BY r.member_id
ON CONFLICT (tenant_id, member_id) DO UPDATE
SET job_id = EXCLUDED.job_id, line = EXCLUDED.line, digest = EXCLUDED.digest,
    lots_digest = EXCLUDED.lots_digest, imported_at = now();

-- name: import_referrals_save
-- Referral links as the other system had them: settled there, never paid here.
INSERT INTO referrals (tenant_id, referee_id, referrer_id, attached_by, status)
SELECT $1::text, r.referee_id, r.referrer_id, 'import', 'imported'
FROM unnest($2::text[], $3::text[]) AS r(referee_id, referrer_id)
ON CONFLICT (tenant_id, referee_id) DO NOTHING;

-- name: import_members_create
-- Members not known yet, made with what their lines said (as import_members_update says
-- it of known ones) and their opening balance ($4, $5: the ledger posts its transfer and
-- lots in the same transaction).
INSERT INTO members (tenant_id, member_id, tier, card_products, status, opening_spend_minor,
                     opening_spend_month, points_balance, lifetime_earned)
SELECT $1::text, u.member_id, u.tier, coalesce(u.card_products, '{}'),
       coalesce(u.status, 'active'), coalesce(u.spend, 0),
       CASE WHEN u.spend IS NULL THEN NULL ELSE $3::date END,
       coalesce(b.points, 0), coalesce(b.points, 0)
FROM jsonb_to_recordset($2::jsonb)
     AS u(member_id text, has_tier boolean, tier text, card_products text[], status text,
          spend bigint)
LEFT JOIN unnest($4::text[], $5::bigint[]) AS b(member_id, points) ON b.member_id = u.member_id
ORDER BY u.member_id
ON CONFLICT (tenant_id, member_id) DO NOTHING;
