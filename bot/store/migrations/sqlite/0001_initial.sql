-- Jobs: one row per upstream operation, written before the command is acknowledged.
CREATE TABLE jobs (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id          INTEGER NOT NULL,
    channel_id        INTEGER NOT NULL,
    user_id           INTEGER NOT NULL,
    operation         TEXT    NOT NULL,            -- cost-table key, e.g. create_music
    request           TEXT    NOT NULL,            -- JSON body sent upstream
    summary           TEXT    NOT NULL DEFAULT '', -- what the member asked for, for the job card
    cost              INTEGER NOT NULL,
    state             TEXT    NOT NULL,            -- submitting|queued|running|streaming|succeeded|failed
    task_id           TEXT,
    application_id    INTEGER,
    interaction_token TEXT,
    token_expires_at  REAL,
    card_message_id   INTEGER,                     -- the job card (the interaction's reply)
    upload_limit      INTEGER,
    failure           TEXT,                        -- plain words shown to the member
    created_at        REAL    NOT NULL,
    submitted_at      REAL,
    finished_at       REAL,
    next_run_at       REAL,                        -- when the scheduler next looks at it
    polls             INTEGER NOT NULL DEFAULT 0,
    errors            INTEGER NOT NULL DEFAULT 0,  -- consecutive transient errors, for backoff
    notified          INTEGER NOT NULL DEFAULT 0,  -- final outcome posted in the channel
    card_state        TEXT                         -- last state shown on the job card
);
CREATE INDEX jobs_due ON jobs (next_run_at) WHERE notified = 0;
CREATE INDEX jobs_guild_state ON jobs (guild_id, state);
CREATE UNIQUE INDEX jobs_task ON jobs (task_id) WHERE task_id IS NOT NULL;

-- Clips made in a server; only ever read back with the server's id.
CREATE TABLE clips (
    clip_id     TEXT    PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    job_id      INTEGER NOT NULL REFERENCES jobs (id),
    user_id     INTEGER NOT NULL,
    title       TEXT    NOT NULL DEFAULT '',
    tags        TEXT    NOT NULL DEFAULT '',
    lyrics      TEXT    NOT NULL DEFAULT '',
    duration    REAL,
    model       TEXT,
    image_url   TEXT,
    audio_url   TEXT,
    source      TEXT    NOT NULL DEFAULT 'generated',   -- generated|upload
    created_at  REAL    NOT NULL,
    raw         TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX clips_guild_recent ON clips (guild_id, created_at DESC);

-- One row per message posted for a job; checked before posting so nothing is posted twice.
CREATE TABLE deliveries (
    job_id       INTEGER NOT NULL REFERENCES jobs (id),
    item         TEXT    NOT NULL,      -- clip id, or 'failure'
    message_id   INTEGER NOT NULL,
    delivered_at REAL    NOT NULL,
    PRIMARY KEY (job_id, item)
);

-- Per-server settings; a server with no row uses the configured defaults.
CREATE TABLE guild_settings (
    guild_id      INTEGER PRIMARY KEY,
    budget        INTEGER NOT NULL,
    budget_period TEXT    NOT NULL,
    updated_at    REAL    NOT NULL,
    updated_by    INTEGER
);

-- The credit ledger. Spending in a period = reserves - releases charged in that period.
-- Each job gets at most one reserve, one commit and one release (the unique index makes
-- every step idempotent, so a retry or a restart can never charge or refund twice).
CREATE TABLE ledger (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id     INTEGER NOT NULL,
    user_id      INTEGER,
    job_id       INTEGER REFERENCES jobs (id),
    kind         TEXT    NOT NULL,   -- reserve|commit|release|setting
    amount       INTEGER NOT NULL,
    operation    TEXT,
    moderator_id INTEGER,
    note         TEXT,
    charged_at   REAL    NOT NULL,   -- the reservation's time: refunds land in its period
    created_at   REAL    NOT NULL
);
CREATE UNIQUE INDEX ledger_job_step ON ledger (job_id, kind) WHERE job_id IS NOT NULL;
CREATE INDEX ledger_guild_time ON ledger (guild_id, charged_at);
