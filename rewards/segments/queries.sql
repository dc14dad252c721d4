-- Named queries of rewards.segments.repository, loaded once and called by name. A member is
-- in a segment when a row of the segment's current generation names it and has not been
-- removed; member_segments() (migration 0023) reads a member's segments that way.

-- name: segment_put
-- Create the segment, or rename it; (the row, whether it was made now).
WITH made AS (
    INSERT INTO segments (tenant_id, segment_id, name, description)
    VALUES ($1::text, $2::text, $3::text, $4::text)
    ON CONFLICT (tenant_id, segment_id) DO UPDATE
    SET name = EXCLUDED.name, description = EXCLUDED.description, updated_at = now()
    RETURNING *, (xmax = 0) AS created
), current_generation AS (
    INSERT INTO segment_generations (tenant_id, segment_id, generation, active_from)
    SELECT tenant_id, segment_id, generation, now() FROM made WHERE created
)
SELECT segment_id, name, description, generation, created_at, updated_at, created,
       0::bigint AS members
FROM made;

-- name: segment_ensure
-- The segments named that do not exist yet, made (named by their ids).
WITH made AS (
    INSERT INTO segments (tenant_id, segment_id, name)
    SELECT $1::text, s, s FROM unnest($2::text[]) AS s
    ON CONFLICT (tenant_id, segment_id) DO NOTHING
    RETURNING tenant_id, segment_id, generation
)
INSERT INTO segment_generations (tenant_id, segment_id, generation, active_from)
SELECT tenant_id, segment_id, generation, now() FROM made;

-- name: segment_get
SELECT s.segment_id, s.name, s.description, s.generation, s.created_at, s.updated_at,
       false AS created,
       (SELECT count(*) FROM segment_members sm
        WHERE sm.tenant_id = s.tenant_id AND sm.segment_id = s.segment_id
          AND sm.generation = s.generation AND sm.removed_at IS NULL) AS members
FROM segments s WHERE s.tenant_id = $1::text AND s.segment_id = $2::text;

-- name: segment_lock
-- The segment, locked against another membership job or a delete starting meanwhile.
SELECT generation FROM segments
WHERE tenant_id = $1::text AND segment_id = $2::text FOR UPDATE;

-- name: segment_list
SELECT s.segment_id, s.name, s.description, s.generation, s.created_at, s.updated_at,
       false AS created,
       (SELECT count(*) FROM segment_members sm
        WHERE sm.tenant_id = s.tenant_id AND sm.segment_id = s.segment_id
          AND sm.generation = s.generation AND sm.removed_at IS NULL) AS members
FROM segments s
WHERE s.tenant_id = $1::text AND ($2::text IS NULL OR s.segment_id > $2::text)
ORDER BY s.segment_id LIMIT $3::int;

-- name: segment_delete
WITH gone AS (
    DELETE FROM segments WHERE tenant_id = $1::text AND segment_id = $2::text
    RETURNING tenant_id, segment_id, generation
)
UPDATE segment_generations g SET active_to = now()
FROM gone
WHERE g.tenant_id = gone.tenant_id AND g.segment_id = gone.segment_id
  AND g.generation = gone.generation
RETURNING g.segment_id;

-- name: segment_busy
-- A membership job of the segment that has not ended.
SELECT job_id FROM jobs
WHERE tenant_id = $1::text AND kind = 'segment' AND status IN ('queued', 'running')
  AND params ->> 'segment_id' = $2::text
LIMIT 1;

-- name: segment_members_set
-- Each of the members $2 in exactly the segments paired with it in ($3, $4) (which exist):
-- memberships not wanted any more are ended, missing ones added to the current generation.
WITH wanted AS (
    SELECT w.member_id, w.segment_id, s.generation
    FROM unnest($3::text[], $4::text[]) AS w(member_id, segment_id)
    JOIN segments s ON s.tenant_id = $1::text AND s.segment_id = w.segment_id
), ended AS (
    UPDATE segment_members sm SET removed_at = clock_timestamp()
    FROM segments s
    WHERE sm.tenant_id = $1::text AND sm.member_id = ANY($2::text[]) AND sm.removed_at IS NULL
      AND s.tenant_id = sm.tenant_id AND s.segment_id = sm.segment_id
      AND s.generation = sm.generation
      AND NOT EXISTS (SELECT 1 FROM wanted w
                      WHERE w.member_id = sm.member_id AND w.segment_id = sm.segment_id)
)
INSERT INTO segment_members (tenant_id, segment_id, generation, member_id)
SELECT $1::text, w.segment_id, w.generation, w.member_id FROM wanted w
ON CONFLICT (tenant_id, segment_id, generation, member_id) WHERE removed_at IS NULL
DO NOTHING;

-- name: segment_generation_new
-- A generation for a replace, loaded while the current one still applies.
INSERT INTO segment_generations (tenant_id, segment_id, generation)
VALUES ($1::text, $2::text, nextval('segment_generations_seq'))
RETURNING generation;

-- name: segment_members_add
-- Members added to a generation; how many were not in it already.
WITH added AS (
    INSERT INTO segment_members (tenant_id, segment_id, generation, member_id)
    SELECT $1::text, $2::text, $3::bigint, m FROM unnest($4::text[]) AS m
    ON CONFLICT (tenant_id, segment_id, generation, member_id) WHERE removed_at IS NULL
    DO NOTHING
    RETURNING 1
)
SELECT count(*) FROM added;

-- name: segment_members_remove
WITH removed AS (
    UPDATE segment_members SET removed_at = clock_timestamp()
    WHERE tenant_id = $1::text AND segment_id = $2::text AND generation = $3::bigint
      AND member_id = ANY($4::text[]) AND removed_at IS NULL
    RETURNING 1
)
SELECT count(*) FROM removed;

-- name: segment_switch
-- The loaded generation $4 becomes the segment's members at once (if the segment is still
-- at generation $3); the one it replaces is kept, with when it stopped applying.
WITH switched AS (
    UPDATE segments SET generation = $4::bigint, updated_at = now()
    WHERE tenant_id = $1::text AND segment_id = $2::text AND generation = $3::bigint
    RETURNING segment_id
), ended AS (
    UPDATE segment_generations SET active_to = now()
    WHERE tenant_id = $1::text AND segment_id = $2::text AND generation = $3::bigint
      AND EXISTS (SELECT 1 FROM switched)
)
UPDATE segment_generations SET active_from = now()
WHERE tenant_id = $1::text AND segment_id = $2::text AND generation = $4::bigint
  AND EXISTS (SELECT 1 FROM switched)
RETURNING 1;

-- name: segment_member_ids
-- The members of one generation (as it stood at $4: removed later still count), in id
-- order from $5 on: a grant's audience, page by page.
SELECT member_id FROM segment_members
WHERE tenant_id = $1::text AND segment_id = $2::text AND generation = $3::bigint
  AND added_at <= $4::timestamptz AND (removed_at IS NULL OR removed_at > $4::timestamptz)
  AND ($5::text IS NULL OR member_id > $5::text)
ORDER BY member_id LIMIT $6::int;

-- name: job_segment_prune_generations
-- Generations that stopped applying before $1 (or were loaded and never applied: a replace
-- cancelled), with their rows.
WITH old AS (
    DELETE FROM segment_generations g
    WHERE (g.active_to < $1::timestamptz
           OR (g.active_from IS NULL
               AND NOT EXISTS (SELECT 1 FROM jobs j
                               WHERE j.tenant_id = g.tenant_id AND j.kind = 'segment'
                                 AND j.status IN ('queued', 'running')
                                 AND (j.checkpoint ->> 'generation')::bigint = g.generation)))
    RETURNING tenant_id, segment_id, generation
)
DELETE FROM segment_members sm USING old
WHERE sm.tenant_id = old.tenant_id AND sm.segment_id = old.segment_id
  AND sm.generation = old.generation;

-- name: job_segment_prune_removed
DELETE FROM segment_members WHERE removed_at < $1::timestamptz;
