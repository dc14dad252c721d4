-- Named queries of rewards.events.repository, loaded once and called by name.

-- name: events_insert
-- Events of one change, written in its transaction — only when the tenant's program has a
-- webhook_url (no one to send them to, nothing written).
INSERT INTO outbox_events (tenant_id, event_id, type, member_id, data)
SELECT $1::text, e.event_id, e.type, e.member_id, e.data
FROM unnest($2::text[], $3::text[], $4::text[], $5::jsonb[]) AS e(event_id, type, member_id, data)
WHERE EXISTS (SELECT 1 FROM programs p
              WHERE p.tenant_id = $1::text AND p.config ->> 'webhook_url' IS NOT NULL);

-- name: events_lease
-- Cross-tenant (the delivery workers): take up to $1 due events, skipping those another
-- worker holds and the tenants this worker has enough in flight for ($2); lease them for $3
-- seconds (if the worker dies, they are due again when the lease ends) and count the attempt.
WITH due AS (
    SELECT e.tenant_id, e.event_id FROM outbox_events e
    WHERE e.status = 'pending' AND e.next_attempt_at <= now()
      AND e.tenant_id <> ALL ($2::text[])
    ORDER BY e.next_attempt_at
    LIMIT $1::int
    FOR UPDATE SKIP LOCKED
)
UPDATE outbox_events o
SET next_attempt_at = now() + make_interval(secs => $3::float8), attempts = o.attempts + 1
FROM due
WHERE o.tenant_id = due.tenant_id AND o.event_id = due.event_id
RETURNING o.tenant_id, o.event_id, o.sequence, o.type, o.data, o.occurred_at, o.attempts,
          o.give_up_at,
          (SELECT p.config ->> 'webhook_url' FROM programs p
           WHERE p.tenant_id = o.tenant_id) AS url,
          (SELECT t.hook_secrets[1] FROM tenants t WHERE t.tenant_id = o.tenant_id) AS secret;

-- name: event_delivered
UPDATE outbox_events SET status = 'delivered', delivered_at = now(), last_error = NULL
WHERE tenant_id = $1::text AND event_id = $2::text AND status = 'pending';

-- name: event_retry
UPDATE outbox_events SET next_attempt_at = $3::timestamptz, last_error = $4::text
WHERE tenant_id = $1::text AND event_id = $2::text AND status = 'pending';

-- name: event_failed
UPDATE outbox_events SET status = 'failed', last_error = $3::text
WHERE tenant_id = $1::text AND event_id = $2::text AND status = 'pending';

-- name: events_list
-- Newest first; keyset $5 = the last sequence seen.
SELECT event_id, sequence, type, member_id, data, occurred_at, status, attempts,
       next_attempt_at, last_error, delivered_at
FROM outbox_events
WHERE tenant_id = $1::text
  AND ($2::text IS NULL OR status = $2::text)
  AND ($3::text IS NULL OR type = $3::text)
  AND ($5::bigint IS NULL OR sequence < $5::bigint)
ORDER BY sequence DESC
LIMIT $4::int;

-- name: event_redeliver
-- Due again at once, with another 72 hours of retries.
UPDATE outbox_events
SET status = 'pending', next_attempt_at = now(), give_up_at = now() + interval '72 hours',
    delivered_at = NULL
WHERE tenant_id = $1::text AND event_id = $2::text
RETURNING event_id, sequence, type, member_id, data, occurred_at, status, attempts,
          next_attempt_at, last_error, delivered_at;

-- name: job_events_prune
-- Cross-tenant (the periodic job): delivered events older than the retention.
DELETE FROM outbox_events WHERE status = 'delivered' AND delivered_at < $1::timestamptz;

-- name: outbox_depth
-- Cross-tenant (/metrics): events waiting, and how long the oldest has waited.
SELECT count(*) AS pending,
       coalesce(extract(epoch FROM now() - min(occurred_at)), 0)::float8 AS oldest_seconds
FROM outbox_events WHERE status = 'pending';

-- name: expiry_notices_due
-- Cross-tenant (the periodic job): points of members with a webhook that expire before $1
-- and were not announced yet, by member and expiry date.
SELECT l.tenant_id, l.member_id, l.expires_at, sum(l.remaining)::bigint AS points
FROM lots l
JOIN programs p ON p.tenant_id = l.tenant_id AND p.config ->> 'webhook_url' IS NOT NULL
WHERE l.remaining > 0 AND l.expires_at > $2::timestamptz AND l.expires_at <= $1::timestamptz
  AND NOT EXISTS (SELECT 1 FROM expiry_notices n
                  WHERE n.tenant_id = l.tenant_id AND n.member_id = l.member_id
                    AND n.expires_at = l.expires_at)
GROUP BY l.tenant_id, l.member_id, l.expires_at
ORDER BY l.tenant_id, l.member_id, l.expires_at
LIMIT $3::int;

-- name: expiry_notices_insert
INSERT INTO expiry_notices (tenant_id, member_id, expires_at, points)
SELECT $1::text, n.member_id, n.expires_at, n.points
FROM unnest($2::text[], $3::timestamptz[], $4::bigint[]) AS n(member_id, expires_at, points)
ON CONFLICT DO NOTHING
RETURNING member_id, expires_at, points;
