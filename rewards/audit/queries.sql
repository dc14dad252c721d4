-- Named queries of rewards.audit.repository, loaded once and called by name.

-- name: audit_insert
INSERT INTO audit_log (tenant_id, actor, action, entity_type, entity_id, before, after)
VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, $6::jsonb, $7::jsonb);

-- name: audit_list
SELECT audit_id, actor, action, entity_type, entity_id, before, after, at
FROM audit_log
WHERE tenant_id = $1::text AND ($2::bigint IS NULL OR audit_id < $2::bigint)
ORDER BY audit_id DESC
LIMIT $3::int;
