-- Named queries of rewards.exclusions.repository. A list's entries are the rows of its
-- current generation; every change moves the tenant's exclusions_version.

-- name: exclusion_put
-- Create the list, or rename it; (the row, whether it was made now). Its match cannot change
-- once made (the caller checks).
INSERT INTO exclusion_lists (tenant_id, list_id, name, match)
VALUES ($1::text, $2::text, $3::text, $4::text)
ON CONFLICT (tenant_id, list_id) DO UPDATE SET name = EXCLUDED.name, updated_at = now()
RETURNING list_id, name, match, generation, created_at, updated_at, (xmax = 0) AS created,
          0::bigint AS entries;

-- name: exclusion_get
SELECT l.list_id, l.name, l.match, l.generation, l.created_at, l.updated_at,
       false AS created,
       (SELECT count(*) FROM exclusion_entries e
        WHERE e.tenant_id = l.tenant_id AND e.list_id = l.list_id
          AND e.generation = l.generation) AS entries
FROM exclusion_lists l WHERE l.tenant_id = $1::text AND l.list_id = $2::text;

-- name: exclusion_list
SELECT l.list_id, l.name, l.match, l.generation, l.created_at, l.updated_at,
       false AS created,
       (SELECT count(*) FROM exclusion_entries e
        WHERE e.tenant_id = l.tenant_id AND e.list_id = l.list_id
          AND e.generation = l.generation) AS entries
FROM exclusion_lists l
WHERE l.tenant_id = $1::text AND ($2::text IS NULL OR l.list_id > $2::text)
ORDER BY l.list_id LIMIT $3::int;

-- name: exclusion_lock
-- The list, locked against another entries job or a delete starting meanwhile.
SELECT generation FROM exclusion_lists
WHERE tenant_id = $1::text AND list_id = $2::text FOR UPDATE;

-- name: exclusion_delete
-- The list and all its generations' entries.
WITH gone AS (
    DELETE FROM exclusion_lists WHERE tenant_id = $1::text AND list_id = $2::text
    RETURNING list_id
)
DELETE FROM exclusion_entries
WHERE tenant_id = $1::text AND list_id = $2::text AND EXISTS (SELECT 1 FROM gone);

-- name: exclusion_busy
-- An entries job of the list that has not ended.
SELECT job_id FROM jobs
WHERE tenant_id = $1::text AND kind = 'exclusions' AND status IN ('queued', 'running')
  AND params ->> 'list_id' = $2::text
LIMIT 1;

-- name: exclusion_generation_new
SELECT nextval('exclusion_generations_seq') AS generation, $1::text AS tenant_id;

-- name: exclusion_entries_add
-- Entries added to a generation; how many were not in it already.
WITH added AS (
    INSERT INTO exclusion_entries (tenant_id, list_id, generation, value)
    SELECT $1::text, $2::text, $3::bigint, v FROM unnest($4::text[]) AS v
    ON CONFLICT DO NOTHING
    RETURNING 1
)
SELECT count(*) FROM added;

-- name: exclusion_entries_remove
WITH removed AS (
    DELETE FROM exclusion_entries
    WHERE tenant_id = $1::text AND list_id = $2::text AND generation = $3::bigint
      AND value = ANY($4::text[])
    RETURNING 1
)
SELECT count(*) FROM removed;

-- name: exclusion_switch
-- The loaded generation $4 becomes the list's entries at once (if the list is still at
-- generation $3); the entries it replaces are deleted.
WITH switched AS (
    UPDATE exclusion_lists SET generation = $4::bigint, updated_at = now()
    WHERE tenant_id = $1::text AND list_id = $2::text AND generation = $3::bigint
    RETURNING list_id
)
DELETE FROM exclusion_entries
WHERE tenant_id = $1::text AND list_id = $2::text AND generation = $3::bigint
  AND EXISTS (SELECT 1 FROM switched);

-- name: exclusion_changed
-- The tenant's lists changed: every serving process reloads them on its next purchase.
UPDATE tenants SET exclusions_version = exclusions_version + 1 WHERE tenant_id = $1::text
RETURNING exclusions_version;

-- name: exclusion_entries_current
-- Every entry of the tenant's lists as they are now: what the hook matches purchases
-- against.
SELECT l.list_id, l.match, e.value
FROM exclusion_lists l
JOIN exclusion_entries e ON e.tenant_id = l.tenant_id AND e.list_id = l.list_id
                        AND e.generation = l.generation
WHERE l.tenant_id = $1::text;

-- name: job_exclusion_prune_generations
-- Generations loaded for a replace that was cancelled or failed (never switched to).
DELETE FROM exclusion_entries e
WHERE NOT EXISTS (SELECT 1 FROM exclusion_lists l
                  WHERE l.tenant_id = e.tenant_id AND l.list_id = e.list_id
                    AND l.generation = e.generation)
  AND NOT EXISTS (SELECT 1 FROM jobs j
                  WHERE j.tenant_id = e.tenant_id AND j.kind = 'exclusions'
                    AND j.status IN ('queued', 'running')
                    AND (j.checkpoint ->> 'generation')::bigint = e.generation);
