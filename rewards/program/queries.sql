-- Named queries of rewards.program.repository, loaded once and called by name.

-- name: program_get
SELECT config, rules_version FROM programs WHERE tenant_id = $1::text;

-- name: program_version
SELECT coalesce((SELECT rules_version FROM programs WHERE tenant_id = $1::text), 0);

-- name: program_put
INSERT INTO programs (tenant_id, config) VALUES ($1::text, $2::jsonb)
ON CONFLICT (tenant_id) DO UPDATE
SET config = EXCLUDED.config, rules_version = programs.rules_version + 1, updated_at = now()
RETURNING rules_version;

-- name: program_bump_rules_version
INSERT INTO programs (tenant_id, config) VALUES ($1::text, $2::jsonb)
ON CONFLICT (tenant_id) DO UPDATE SET rules_version = programs.rules_version + 1
RETURNING rules_version;

-- name: earn_rules_all
SELECT definition, budget_used FROM earn_rules
WHERE tenant_id = $1::text AND NOT deleted ORDER BY rule_id;

-- name: earn_rule_get
SELECT definition, budget_used FROM earn_rules
WHERE tenant_id = $1::text AND rule_id = $2::text AND NOT deleted;

-- name: earn_rule_list
SELECT definition, budget_used FROM earn_rules
WHERE tenant_id = $1::text AND NOT deleted AND ($2::text IS NULL OR rule_id > $2::text)
ORDER BY rule_id LIMIT $3::int;

-- name: earn_rule_insert
INSERT INTO earn_rules (tenant_id, rule_id, definition, active)
VALUES ($1::text, $2::text, $3::jsonb, $4::boolean)
ON CONFLICT (tenant_id, rule_id) DO UPDATE
SET definition = EXCLUDED.definition, active = EXCLUDED.active, deleted = false,
    budget_used = 0, updated_at = now()
WHERE earn_rules.deleted
RETURNING rule_id;

-- name: earn_rule_update
UPDATE earn_rules SET definition = $3::jsonb, active = $4::boolean, updated_at = now()
WHERE tenant_id = $1::text AND rule_id = $2::text AND NOT deleted
RETURNING rule_id;

-- name: earn_rule_delete
UPDATE earn_rules SET deleted = true, active = false, updated_at = now()
WHERE tenant_id = $1::text AND rule_id = $2::text AND NOT deleted
RETURNING rule_id;

-- name: campaigns_all
SELECT definition, secret, commitment, total_used, created_at FROM draw_campaigns
WHERE tenant_id = $1::text ORDER BY campaign_id;

-- name: campaign_get
SELECT definition, secret, commitment, total_used, created_at FROM draw_campaigns
WHERE tenant_id = $1::text AND campaign_id = $2::text;

-- name: campaign_list
SELECT definition, secret, commitment, total_used, created_at FROM draw_campaigns
WHERE tenant_id = $1::text AND ($2::text IS NULL OR campaign_id > $2::text)
ORDER BY campaign_id LIMIT $3::int;

-- name: campaign_insert
INSERT INTO draw_campaigns (tenant_id, campaign_id, definition, secret, commitment,
                            starts_at, ends_at)
VALUES ($1::text, $2::text, $3::jsonb, $4::bytea, $5::text, $6::timestamptz, $7::timestamptz)
ON CONFLICT (tenant_id, campaign_id) DO NOTHING
RETURNING campaign_id;

-- name: campaign_stats
SELECT coalesce(sum(n), 0)::bigint AS draws, coalesce(sum(paid_points), 0)::bigint AS bonus_paid,
       coalesce(jsonb_object_agg(paid, n) FILTER (WHERE paid IS NOT NULL), '{}') AS prize_counts
FROM (
    SELECT paid, count(*) AS n, sum(points) AS paid_points
    FROM draws WHERE tenant_id = $1::text AND campaign_id = $2::text
    GROUP BY paid
) d;

-- name: campaign_draws
-- The first $3 draws of a campaign by transaction id (anyone may recompute them once its
-- secret is revealed).
SELECT transaction_id, drawn, paid, points, proof FROM draws
WHERE tenant_id = $1::text AND campaign_id = $2::text
ORDER BY transaction_id
LIMIT $3::int;

-- name: config_history_insert
-- A version of the program, a rule or a campaign, made by the change that moved the
-- program's rules_version to $4 (the programs row is locked until it commits).
INSERT INTO config_history (tenant_id, kind, object_id, version, document)
VALUES ($1::text, $2::text, $3::text, $4::bigint, $5::jsonb);

-- name: config_history_as_of
-- The version of one object in force at a moment: (document or NULL when deleted, since).
SELECT document, valid_from FROM config_history
WHERE tenant_id = $1::text AND kind = $2::text AND object_id = $3::text
  AND valid_from <= $4::timestamptz
ORDER BY valid_from DESC, change_id DESC LIMIT 1;

-- name: config_history_programmed
-- Every version of the program, its rules and campaigns made up to program version $2, in
-- the order they were made.
SELECT kind, object_id, version, valid_from, document FROM config_history
WHERE tenant_id = $1::text AND kind <> 'offer' AND version <= $2::bigint
ORDER BY version, change_id;
