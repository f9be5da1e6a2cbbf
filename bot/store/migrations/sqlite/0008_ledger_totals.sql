-- Running totals of the ledger per server (user_id -1) and member, per kind of budget period
-- (day, week, month, none) and period start, kept in the same transaction as every ledger
-- entry, so a reservation or /credits reads one row instead of summing the period. The
-- ledger stays the source of truth: bot.store.ledger.check_totals compares the two.
--   spent   - server rows: reserves - releases - server resets;
--             member rows: own-limit reserves - releases - member resets
--   granted - member rows: extra allowance from /quota grant
CREATE TABLE ledger_totals (
    guild_id     INTEGER NOT NULL,
    user_id      INTEGER NOT NULL,
    period       TEXT    NOT NULL,
    period_start REAL    NOT NULL,
    spent        INTEGER NOT NULL DEFAULT 0,
    granted      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (guild_id, user_id, period, period_start)
);

-- Totals for the entries written before this migration (periods in UTC, weeks from Monday).
INSERT INTO ledger_totals (guild_id, user_id, period, period_start, spent, granted)
SELECT guild_id, scope, period,
       CASE period
           WHEN 'day' THEN CAST(strftime('%s', charged_at, 'unixepoch', 'start of day') AS REAL)
           WHEN 'week' THEN CAST(strftime('%s', charged_at, 'unixepoch', 'start of day',
                                          'weekday 0', '-6 days') AS REAL)
           WHEN 'month' THEN CAST(strftime('%s', charged_at, 'unixepoch', 'start of month')
                                  AS REAL)
           ELSE 0.0
       END AS start,
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
CROSS JOIN (SELECT 'day' AS period UNION ALL SELECT 'week' UNION ALL SELECT 'month'
            UNION ALL SELECT 'none') AS periods
GROUP BY guild_id, scope, period, start
HAVING SUM(spent) != 0 OR SUM(granted) != 0;
