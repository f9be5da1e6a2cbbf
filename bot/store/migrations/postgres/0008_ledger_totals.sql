-- Running totals of the ledger (twin of sqlite/0008; see there for what each column holds).
CREATE TABLE ledger_totals (
    guild_id     BIGINT  NOT NULL,
    user_id      BIGINT  NOT NULL,
    period       TEXT    NOT NULL,
    period_start DOUBLE PRECISION NOT NULL,
    spent        INTEGER NOT NULL DEFAULT 0,
    granted      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (guild_id, user_id, period, period_start)
);

INSERT INTO ledger_totals (guild_id, user_id, period, period_start, spent, granted)
SELECT guild_id, scope, period,
       CASE WHEN period = 'none' THEN 0.0
            ELSE extract(epoch FROM date_trunc(period, to_timestamp(charged_at), 'UTC'))
       END::double precision AS start,
       SUM(spent), SUM(granted)
FROM (
    SELECT guild_id, -1 AS scope, charged_at,
           CASE WHEN kind = 'reserve' THEN amount
                WHEN kind = 'release' THEN -amount
                WHEN kind = 'reset' AND user_id IS NULL THEN -amount
                ELSE 0 END AS spent,
           0 AS granted
    FROM ledger
    UNION ALL
    SELECT guild_id, user_id AS scope, charged_at,
           CASE WHEN kind = 'reserve' AND member_share = 1 THEN amount
                WHEN kind = 'release' AND member_share = 1 THEN -amount
                WHEN kind = 'reset' THEN -amount
                ELSE 0 END AS spent,
           CASE WHEN kind = 'grant' THEN amount ELSE 0 END AS granted
    FROM ledger WHERE user_id IS NOT NULL
) AS deltas
CROSS JOIN (VALUES ('day'), ('week'), ('month'), ('none')) AS periods (period)
GROUP BY guild_id, scope, period, start
HAVING SUM(spent) <> 0 OR SUM(granted) <> 0;
