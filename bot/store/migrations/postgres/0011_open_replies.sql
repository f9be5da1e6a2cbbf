-- Twin of sqlite/0011.
-- Interactions acknowledged ("thinking…") and not yet finished, so that a crash or restart in
-- between still ends each with a final answer (see bot/delivery/interrupted.py). A row lives
-- for the seconds a command runs; a job takes over the answering once its row exists.
CREATE TABLE open_replies (
    interaction_id BIGINT           PRIMARY KEY,
    application_id BIGINT           NOT NULL,
    token          TEXT             NOT NULL,
    guild_id       BIGINT,
    channel_id     BIGINT           NOT NULL,
    user_id        BIGINT           NOT NULL,
    command        TEXT             NOT NULL,
    opened_at      DOUBLE PRECISION NOT NULL
);
CREATE INDEX open_replies_opened ON open_replies (opened_at);
