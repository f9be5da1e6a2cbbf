-- The owner's ceilings: an allowance per server that only the owner sets, a
-- daily cap on the whole bot, and resets that forgive one budget period's committed spending.

-- The most a server's moderators may budget, and may spend, per period. A server without a
-- row has the configured default (DEFAULT_GUILD_BUDGET / DEFAULT_BUDGET_PERIOD).
--   set_by - the owner who set it; NULL: kept from the server's budget at this upgrade
CREATE TABLE guild_allowances (
    guild_id INTEGER PRIMARY KEY,
    amount   INTEGER NOT NULL,
    period   TEXT    NOT NULL,
    set_by   INTEGER,
    set_at   REAL    NOT NULL
);

-- An upgrade never raises what a server could spend: every server with a budget of its own
-- keeps it as its allowance. Where the default is at least as generous, the default applies
-- (bot.quota.allowance.effective), so a small budget can still grow up to the default.
INSERT INTO guild_allowances (guild_id, amount, period, set_by, set_at)
SELECT guild_id, budget, budget_period, NULL, updated_at FROM guild_settings;

-- Running totals of the owner's scope (user_id -2): reserves - releases, which no reset
-- forgives. The allowance and the bot-wide daily cap are checked against these.
INSERT INTO ledger_totals (guild_id, user_id, period, period_start, spent, granted)
SELECT guild_id, -2, period,
       CASE period
           WHEN 'day' THEN CAST(strftime('%s', charged_at, 'unixepoch', 'start of day') AS REAL)
           WHEN 'week' THEN CAST(strftime('%s', charged_at, 'unixepoch', 'start of day',
                                          'weekday 0', '-6 days') AS REAL)
           WHEN 'month' THEN CAST(strftime('%s', charged_at, 'unixepoch', 'start of month')
                                  AS REAL)
           ELSE 0.0
       END AS start,
       SUM(CASE WHEN kind = 'reserve' THEN amount ELSE -amount END), 0
FROM ledger
CROSS JOIN (SELECT 'day' AS period UNION ALL SELECT 'week' UNION ALL SELECT 'month'
            UNION ALL SELECT 'none') AS periods
WHERE kind IN ('reserve', 'release')
GROUP BY guild_id, period, start
HAVING SUM(CASE WHEN kind = 'reserve' THEN amount ELSE -amount END) != 0;

-- The whole bot's spending today: the owner's-scope day rows of every server.
-- The budget period a reset forgives (it moves only that period's totals); NULL for resets
-- written before this migration, which moved every period's.
ALTER TABLE ledger ADD COLUMN period TEXT;

CREATE INDEX ledger_totals_scope_period ON ledger_totals (user_id, period, period_start);

-- Alerts about the daily cap already sent (80 and 100 per UTC day), so each goes out once
-- whatever the number of processes and restarts.
CREATE TABLE owner_cap_alerts (
    day_start REAL    NOT NULL,
    level     INTEGER NOT NULL,
    sent_at   REAL    NOT NULL,
    PRIMARY KEY (day_start, level)
);
