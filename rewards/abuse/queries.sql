-- Named queries of rewards.abuse.repository, loaded once and called by name.

-- name: device_member_seq
SELECT seq FROM device_members
WHERE tenant_id = $1::text AND device = $2::bytea AND member_id = $3::text;

-- name: device_lock
-- The device's row, made on first sight and locked: members are numbered one at a time.
INSERT INTO devices (tenant_id, device) VALUES ($1::text, $2::bytea)
ON CONFLICT (tenant_id, device) DO UPDATE SET members = devices.members
RETURNING members;

-- name: device_add_member
WITH counted AS (
    UPDATE devices SET members = members + 1
    WHERE tenant_id = $1::text AND device = $2::bytea
    RETURNING members
)
INSERT INTO device_members (tenant_id, device, member_id, seq)
SELECT $1::text, $2::bytea, $3::text, members FROM counted
RETURNING seq;

-- name: member_claims_since
-- When the member claimed offers since $3 (their first claim of each offer).
SELECT claimed_at FROM offer_members
WHERE tenant_id = $1::text AND member_id = $2::text AND claimed_at > $3::timestamptz;

-- name: risk_events_insert
INSERT INTO risk_events (tenant_id, member_id, device, reason, detail)
SELECT $1::text, r.member_id, r.device, r.reason, r.detail
FROM unnest($2::text[], $3::bytea[], $4::text[], $5::jsonb[])
     AS r(member_id, device, reason, detail);

-- name: risk_events_list
-- Newest first; keyset $7 = the last event id seen.
SELECT event_id, member_id, device, reason, detail, occurred_at FROM risk_events
WHERE tenant_id = $1::text
  AND ($2::text IS NULL OR member_id = $2::text)
  AND ($3::text IS NULL OR reason = $3::text)
  AND ($4::timestamptz IS NULL OR occurred_at >= $4::timestamptz)
  AND ($5::timestamptz IS NULL OR occurred_at < $5::timestamptz)
  AND ($7::bigint IS NULL OR event_id < $7::bigint)
ORDER BY event_id DESC
LIMIT $6::int;

-- name: risk_event_counts
-- Risk events by reason since $2 (for the console and metrics).
SELECT reason, count(*) AS events FROM risk_events
WHERE tenant_id = $1::text AND occurred_at >= $2::timestamptz
GROUP BY reason ORDER BY reason;
