-- Named queries of loadtest.cluster: what the drills check on the (new) primary.

-- name: drill_points_by_transaction
-- Points each drill transaction put on its member (credits minus debits).
SELECT transaction_id,
       coalesce(sum(amount) FILTER (WHERE credit_account LIKE 'member:%'), 0)
     - coalesce(sum(amount) FILTER (WHERE debit_account LIKE 'member:%'), 0) AS points
FROM transfers
WHERE tenant_id = $1::text AND transaction_id LIKE $2::text
GROUP BY transaction_id;

-- name: drill_transactions
SELECT transaction_id FROM transactions
WHERE tenant_id = $1::text AND transaction_id LIKE $2::text;

-- name: drill_postings_balance
SELECT coalesce(sum(amount), 0) = 0 FROM postings WHERE tenant_id = $1::text;

-- name: drill_events
-- The tenant's outbound events, and the points.awarded events of acknowledged awards.
SELECT count(*) FILTER (WHERE status = 'pending') AS pending,
       count(*) FILTER (WHERE status = 'delivered') AS delivered,
       count(*) FILTER (WHERE type = 'points.awarded'
                        AND transaction_id = ANY($2::text[])) AS acked_events,
       count(*) FILTER (WHERE type = 'points.awarded' AND status = 'delivered'
                        AND transaction_id = ANY($2::text[])) AS acked_delivered
FROM outbox_events
WHERE tenant_id = $1::text;
