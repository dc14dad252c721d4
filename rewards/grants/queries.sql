-- Named queries of rewards.grants.repository, loaded once and called by name.

-- name: grant_insert
INSERT INTO grants (tenant_id, grant_id, job_id, body_hash, audience, points, expires_at,
                    offer_id, reason, created_by)
VALUES ($1::text, $2::text, $3::text, $4::bytea, $5::jsonb, $6::bigint, $7::timestamptz,
        $8::text, $9::text, $10::text)
ON CONFLICT (tenant_id, grant_id) DO NOTHING
RETURNING grant_id;

-- name: grant_get
SELECT g.grant_id, g.job_id, g.body_hash, g.audience, g.points, g.expires_at, g.offer_id,
       g.reason, g.created_by, g.created_at
FROM grants g WHERE g.tenant_id = $1::text AND g.grant_id = $2::text;

-- name: grant_members_insert
-- The members of a chunk who have not had the grant yet, marked as having it now: each
-- member gets a grant once, whatever retries or workers go over them again.
INSERT INTO grant_members (tenant_id, grant_id, member_id, points, offer_claimed)
SELECT $1::text, $2::text, m, $4::bigint, $5::boolean FROM unnest($3::text[]) AS m ORDER BY m
ON CONFLICT (tenant_id, grant_id, member_id) DO NOTHING
RETURNING member_id;

