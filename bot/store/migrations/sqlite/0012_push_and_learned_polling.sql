-- Webhooks (push) and the learned poll schedule.
--
-- A verified webhook is stored before it is acted on, so any process may receive it and the
-- job's owner applies it (also after a crash between the receipt and the action). The unique
-- indexes refuse replays: by MusicAPI's event id, and by task + event, because the event id is
-- not covered by the signature and the older signature scheme sends none.
CREATE TABLE webhook_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id      INTEGER NOT NULL REFERENCES jobs (id),
    delivery_id TEXT,
    task_id     TEXT    NOT NULL,
    event       TEXT    NOT NULL,
    payload     TEXT    NOT NULL,
    received_at REAL    NOT NULL,
    applied_at  REAL
);
CREATE UNIQUE INDEX webhook_events_delivery ON webhook_events (delivery_id)
    WHERE delivery_id IS NOT NULL;
CREATE UNIQUE INDEX webhook_events_task_event ON webhook_events (task_id, event);
CREATE INDEX webhook_events_pending ON webhook_events (job_id) WHERE applied_at IS NULL;

-- Values the bot makes up once and keeps: the webhook signing secret (unless WEBHOOK_SECRET
-- sets one) and the key that derives each job's unguessable webhook token.
CREATE TABLE bot_secrets (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    created_at REAL NOT NULL
);

-- The model a job asked for (the learned schedule is per family, operation and model), the
-- playable stream shown on the card while the final files are made, the last time upstream
-- said "not done yet", and the generation time learned from this job once it finished.
ALTER TABLE jobs ADD COLUMN model TEXT;
ALTER TABLE jobs ADD COLUMN stream_url TEXT;
ALTER TABLE jobs ADD COLUMN seen_pending_at REAL;
ALTER TABLE jobs ADD COLUMN duration_s REAL;
CREATE INDEX jobs_learned ON jobs (finished_at) WHERE duration_s IS NOT NULL;
