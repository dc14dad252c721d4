-- Named queries of rewards.events.repository, loaded once and called by name.

-- name: events_insert
-- Events of one change, written in its transaction — only when the tenant's program has a
-- webhook_url (no one to send them to, nothing written).
INSERT INTO outbox_events (tenant_id, type, member_id, transaction_id, data)
SELECT $1::text, e.type, e.member_id, e.transaction_id, e.data
FROM unnest($2::text[], $3::text[], $4::text[], $5::jsonb[])
     AS e(type, member_id, transaction_id, data)
WHERE EXISTS (SELECT 1 FROM programs p
              WHERE p.tenant_id = $1::text AND p.config ->> 'webhook_url' IS NOT NULL);

-- name: events_lease
-- Cross-tenant (the delivery workers): take up to $1 due events, at most $3[i] of tenant
-- $2[i] and $4 of any other tenant (the tenant whose events have waited longest first),
-- skipping those another worker holds; lease them for $5 seconds (if the worker dies, they
-- are due again when the lease ends) and count the attempt. An event that reports a hook
-- answer carries the answer as it was sent; each carries the tenant's event signing secrets.
WITH rooms AS (
    SELECT r.tenant_id, r.room FROM unnest($2::text[], $3::int[]) AS r(tenant_id, room)
), waiting AS (
    SELECT e.tenant_id, min(e.next_attempt_at) AS first_due FROM outbox_events e
    WHERE e.status = 'pending' AND e.next_attempt_at <= now()
    GROUP BY e.tenant_id
), due AS (
    SELECT x.tenant_id, x.sequence
    FROM (SELECT w.tenant_id, coalesce(r.room, $4::int) AS room, w.first_due
          FROM waiting w LEFT JOIN rooms r ON r.tenant_id = w.tenant_id
          WHERE coalesce(r.room, $4::int) > 0
          ORDER BY w.first_due) w
    CROSS JOIN LATERAL (
        SELECT e.tenant_id, e.sequence FROM outbox_events e
        WHERE e.tenant_id = w.tenant_id AND e.status = 'pending' AND e.next_attempt_at <= now()
        ORDER BY e.next_attempt_at
        LIMIT w.room
        FOR UPDATE SKIP LOCKED
    ) x
    LIMIT $1::int
)
UPDATE outbox_events o
SET next_attempt_at = now() + make_interval(secs => $5::float8), attempts = o.attempts + 1
FROM due
WHERE o.tenant_id = due.tenant_id AND o.sequence = due.sequence
RETURNING o.tenant_id, o.sequence, o.type, o.data, o.occurred_at, o.attempts, o.give_up_at,
          (SELECT t.answer
           FROM transactions t
           WHERE o.data IS NULL AND t.tenant_id = o.tenant_id
             AND t.transaction_id = o.transaction_id) AS answer,
          (SELECT p.config ->> 'webhook_url' FROM programs p
           WHERE p.tenant_id = o.tenant_id) AS url,
          (SELECT coalesce(array_agg(s.secret ORDER BY s.valid_until DESC NULLS FIRST), '{}')
           FROM tenant_secrets s
           WHERE s.tenant_id = o.tenant_id AND s.kind = 'event'
             AND (s.valid_until IS NULL OR s.valid_until > now())) AS secrets;

-- name: events_record_outcomes
-- Cross-tenant (the delivery workers): what a worker's deliveries came to, in one statement:
-- delivered, due again at $4 with the error $5, or failed.
UPDATE outbox_events o
SET status = u.status,
    delivered_at = CASE WHEN u.status = 'delivered' THEN now() END,
    next_attempt_at = coalesce(u.next_at, o.next_attempt_at),
    last_error = u.error
FROM unnest($1::text[], $2::bigint[], $3::text[], $4::timestamptz[], $5::text[])
     AS u(tenant_id, sequence, status, next_at, error)
WHERE o.tenant_id = u.tenant_id AND o.sequence = u.sequence AND o.status = 'pending';

-- name: events_list
-- Newest first; keyset $5 = the last sequence seen.
SELECT o.sequence, o.type, o.member_id, o.occurred_at, o.status, o.attempts,
       o.next_attempt_at, o.last_error, o.delivered_at,
       coalesce(o.data, (SELECT convert_from(t.answer, 'UTF8')::jsonb
                         FROM transactions t
                         WHERE t.tenant_id = o.tenant_id
                           AND t.transaction_id = o.transaction_id)) AS data
FROM outbox_events o
WHERE o.tenant_id = $1::text
  AND ($2::text IS NULL OR o.status = $2::text)
  AND ($3::text IS NULL OR o.type = $3::text)
  AND ($5::bigint IS NULL OR o.sequence < $5::bigint)
ORDER BY o.sequence DESC
LIMIT $4::int;

-- name: event_redeliver
-- Due again at once, with another 72 hours of retries.
UPDATE outbox_events o
SET status = 'pending', next_attempt_at = now(), give_up_at = now() + interval '72 hours',
    delivered_at = NULL
WHERE o.tenant_id = $1::text AND o.sequence = $2::bigint
RETURNING o.sequence, o.type, o.member_id, o.occurred_at, o.status, o.attempts,
          o.next_attempt_at, o.last_error, o.delivered_at,
          coalesce(o.data, (SELECT convert_from(t.answer, 'UTF8')::jsonb
                            FROM transactions t
                            WHERE t.tenant_id = o.tenant_id
                              AND t.transaction_id = o.transaction_id)) AS data;

-- name: job_events_prune
-- Cross-tenant (the periodic job): delivered events older than the retention.
DELETE FROM outbox_events WHERE status = 'delivered' AND delivered_at < $1::timestamptz;

-- name: job_outbox_depth
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
