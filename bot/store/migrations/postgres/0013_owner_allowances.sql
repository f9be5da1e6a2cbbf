-- The owner's ceilings (twin of sqlite/0013; see there for what each part is for).
CREATE TABLE guild_allowances (
    guild_id BIGINT  PRIMARY KEY,
    amount   INTEGER NOT NULL,
    period   TEXT    NOT NULL,
    set_by   BIGINT,
    set_at   DOUBLE PRECISION NOT NULL
);

INSERT INTO guild_allowances (guild_id, amount, period, set_by, set_at)
SELECT guild_id, budget, budget_period, NULL, updated_at FROM guild_settings;

INSERT INTO ledger_totals (guild_id, user_id, period, period_start, spent, granted)
SELECT guild_id, -2, period,
       CASE WHEN period = 'none' THEN 0.0
            ELSE extract(epoch FROM date_trunc(period, to_timestamp(charged_at), 'UTC'))
       END::double precision AS start,
       SUM(CASE WHEN kind = 'reserve' THEN amount ELSE -amount END), 0
FROM ledger
CROSS JOIN (VALUES ('day'), ('week'), ('month'), ('none')) AS periods (period)
WHERE kind IN ('reserve', 'release')
GROUP BY guild_id, period, start
HAVING SUM(CASE WHEN kind = 'reserve' THEN amount ELSE -amount END) <> 0;

ALTER TABLE ledger ADD COLUMN period TEXT;

CREATE INDEX ledger_totals_scope_period ON ledger_totals (user_id, period, period_start);

CREATE TABLE owner_cap_alerts (
    day_start DOUBLE PRECISION NOT NULL,
    level     INTEGER NOT NULL,
    sent_at   DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (day_start, level)
);
