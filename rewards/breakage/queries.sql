-- The points liability by the month points were earned (rewards/core/breakage.py). Only
-- transfers recorded before $2 count, so that a report as of a past day is what it was.

-- name: breakage_issued
-- Points into members' accounts, by the month (in zone $3) they came in.
SELECT date_trunc('month', t.created_at AT TIME ZONE $3::text)::date AS cohort,
       sum(t.amount)::bigint AS points
FROM transfers t
WHERE t.tenant_id = $1::text AND t.created_at < $2::timestamptz
  AND t.credit_account = 'member:' || t.member_id
GROUP BY 1 ORDER BY 1;

-- name: breakage_flows
-- Points out of members' accounts matched first in, first out against the points that came
-- in, member by member in the ledger's order: (cohort, month out, kind, points). Each
-- member's ins and outs are intervals of one running count; every stretch between two
-- consecutive ends lies in the first in and the first out that end at or after it (a
-- running minimum in descending order finds both without a join).
WITH moves AS (
    SELECT t.member_id, t.transfer_id, t.created_at,
           CASE WHEN t.credit_account = 'member:' || t.member_id THEN t.amount ELSE 0 END
               AS came_in,
           CASE WHEN t.debit_account = 'member:' || t.member_id THEN t.amount ELSE 0 END
               AS went_out,
           CASE WHEN t.kind = 'redemption' THEN 1 WHEN t.kind IN ('expiry', 'forfeit') THEN 2
                ELSE 3 END AS kind,
           (extract(year FROM t.created_at AT TIME ZONE $3::text) * 12
            + extract(month FROM t.created_at AT TIME ZONE $3::text) - 1)::bigint AS month
    FROM transfers t
    WHERE t.tenant_id = $1::text AND t.created_at < $2::timestamptz
      AND (t.credit_account = 'member:' || t.member_id
           OR t.debit_account = 'member:' || t.member_id)
), ends AS (
    SELECT member_id, sum(came_in) OVER w AS at, ARRAY[sum(came_in) OVER w, month] AS came,
           NULL::numeric[] AS went
    FROM moves WHERE came_in > 0
    WINDOW w AS (PARTITION BY member_id ORDER BY created_at, transfer_id)
    UNION ALL
    SELECT member_id, sum(went_out) OVER w, NULL,
           ARRAY[sum(went_out) OVER w, month, kind]
    FROM moves WHERE went_out > 0
    WINDOW w AS (PARTITION BY member_id ORDER BY created_at, transfer_id)
), stretches AS (
    SELECT at - coalesce(lag(at) OVER (PARTITION BY member_id ORDER BY at), 0) AS points,
           min(came) OVER later AS came, min(went) OVER later AS went
    FROM ends
    WINDOW later AS (PARTITION BY member_id ORDER BY at DESC)
)
SELECT make_date(div(came[2], 12)::int, mod(came[2], 12)::int + 1, 1) AS cohort,
       make_date(div(went[2], 12)::int, mod(went[2], 12)::int + 1, 1) AS month,
       CASE went[3] WHEN 1 THEN 'redeemed' WHEN 2 THEN 'expired' ELSE 'reversed' END AS kind,
       sum(points)::bigint AS points
FROM stretches
WHERE came IS NOT NULL AND went IS NOT NULL AND points > 0
GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
