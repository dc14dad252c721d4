-- Named queries of rewards.privacy.repository, loaded once and called by name.

-- name: member_export
-- Everything held about one member, by table: every table with a member column has its
-- section (the export is checked against the schema).
SELECT jsonb_build_object(
    'members', (SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') FROM members x
                WHERE x.tenant_id = $1::text AND x.member_id = $2::text),
    'member_changes', (SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY x.change_id), '[]')
                       FROM member_changes x
                       WHERE x.tenant_id = $1::text AND x.member_id = $2::text),
    'lots', (SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY x.lot_id), '[]') FROM lots x
             WHERE x.tenant_id = $1::text AND x.member_id = $2::text),
    'transfers', (SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY x.transfer_id), '[]')
                  FROM transfers x WHERE x.tenant_id = $1::text AND x.member_id = $2::text),
    'transactions', (SELECT coalesce(jsonb_agg(
                         to_jsonb(x) - 'answer' - 'body_hash'
                         || jsonb_build_object('answer', convert_from(x.answer, 'UTF8')::jsonb)
                         ORDER BY x.seq), '[]')
                     FROM transactions x
                     WHERE x.tenant_id = $1::text AND x.member_id = $2::text),
    'draws', (SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') FROM draws x
              WHERE x.tenant_id = $1::text AND x.member_id = $2::text),
    'rule_usage', (SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') FROM rule_usage x
                   WHERE x.tenant_id = $1::text AND x.member_id = $2::text),
    'member_day_points', (SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') FROM member_day_points x
                          WHERE x.tenant_id = $1::text AND x.member_id = $2::text),
    'member_spend', (SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') FROM member_spend x
                     WHERE x.tenant_id = $1::text AND x.member_id = $2::text),
    'offer_members', (SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') FROM offer_members x
                      WHERE x.tenant_id = $1::text AND x.member_id = $2::text),
    'offer_redemptions', (SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') FROM offer_redemptions x
                          WHERE x.tenant_id = $1::text AND x.member_id = $2::text),
    'redemptions', (SELECT coalesce(jsonb_agg(to_jsonb(x) - 'device'), '[]') FROM redemptions x
                    WHERE x.tenant_id = $1::text AND x.member_id = $2::text),
    'referrals', (SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') FROM referrals x
                  WHERE x.tenant_id = $1::text
                    AND (x.referee_id = $2::text OR x.referrer_id = $2::text)),
    'risk_events', (SELECT coalesce(jsonb_agg(to_jsonb(x) - 'device'
                                              || jsonb_build_object('device', encode(x.device, 'hex'))), '[]')
                    FROM risk_events x WHERE x.tenant_id = $1::text AND x.member_id = $2::text),
    'device_members', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                           'device', encode(x.device, 'hex'), 'seq', x.seq,
                           'first_seen', x.first_seen)), '[]')
                       FROM device_members x
                       WHERE x.tenant_id = $1::text AND x.member_id = $2::text),
    'expiry_notices', (SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') FROM expiry_notices x
                       WHERE x.tenant_id = $1::text AND x.member_id = $2::text),
    'outbox_events', (SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY x.sequence), '[]')
                      FROM outbox_events x
                      WHERE x.tenant_id = $1::text AND x.member_id = $2::text),
    'segment_members', (SELECT coalesce(jsonb_agg(to_jsonb(x) - 'tenant_id'
                                                  ORDER BY x.segment_id, x.added_at), '[]')
                        FROM segment_members x
                        WHERE x.tenant_id = $1::text AND x.member_id = $2::text),
    'member_imports', (SELECT coalesce(jsonb_agg(to_jsonb(x) - 'digest' - 'lots_digest'), '[]')
                       FROM member_imports x
                       WHERE x.tenant_id = $1::text AND x.member_id = $2::text),
    'grant_members', (SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY x.granted_at), '[]')
                      FROM grant_members x
                      WHERE x.tenant_id = $1::text AND x.member_id = $2::text),
    'job_errors', (SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY x.job_id, x.line), '[]')
                   FROM job_errors x
                   WHERE x.tenant_id = $1::text AND x.item_id = $2::text),
    'holds', (SELECT coalesce(jsonb_agg(to_jsonb(x) - 'tenant_id' ORDER BY x.created_at), '[]')
              FROM holds x WHERE x.tenant_id = $1::text AND x.member_id = $2::text),
    'approvals', (SELECT coalesce(jsonb_agg(to_jsonb(x) - 'tenant_id' ORDER BY x.created_at),
                                  '[]')
                  FROM approvals x
                  WHERE x.tenant_id = $1::text AND x.request ->> 'member_id' = $2::text),
    'audit_log', (SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY x.audit_id), '[]')
                  FROM audit_log x
                  WHERE x.tenant_id = $1::text AND x.entity_type = 'member'
                    AND x.entity_id = $2::text)
)
WHERE EXISTS (SELECT 1 FROM members WHERE tenant_id = $1::text AND member_id = $2::text);

-- name: member_erase
-- (erase_member filters every table it changes by the tenant it is given.)
SELECT erase_member(t.tenant_id, $2::text, $3::text) FROM tenants t
WHERE t.tenant_id = $1::text;
