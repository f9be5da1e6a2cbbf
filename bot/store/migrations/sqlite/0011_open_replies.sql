-- Interactions acknowledged ("thinking…") and not yet finished, so that a crash or restart in
-- between still ends each with a final answer (see bot/delivery/interrupted.py). A row lives
-- for the seconds a command runs; a job takes over the answering once its row exists.
CREATE TABLE open_replies (
    interaction_id INTEGER PRIMARY KEY,
    application_id INTEGER NOT NULL,
    token          TEXT    NOT NULL,
    guild_id       INTEGER,
    channel_id     INTEGER NOT NULL,
    user_id        INTEGER NOT NULL,
    command        TEXT    NOT NULL,
    opened_at      REAL    NOT NULL
);
CREATE INDEX open_replies_opened ON open_replies (opened_at);
