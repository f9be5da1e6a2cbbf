-- Moderator-run limits and community song requests.

ALTER TABLE guild_settings ADD COLUMN member_jobs_cap INTEGER;            -- NULL: no cap
ALTER TABLE guild_settings ADD COLUMN server_jobs_cap INTEGER;            -- NULL: no cap
ALTER TABLE guild_settings ADD COLUMN approval INTEGER NOT NULL DEFAULT 0;
ALTER TABLE guild_settings ADD COLUMN mod_role_id INTEGER;

-- A member's own limit per period; overrides their roles' limits.
CREATE TABLE member_limits (
    guild_id INTEGER NOT NULL,
    user_id  INTEGER NOT NULL,
    amount   INTEGER NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);

-- Limits per role; a member gets the highest of their roles (the @everyone role, whose id is
-- the server's, is the server-wide default).
CREATE TABLE role_limits (
    guild_id INTEGER NOT NULL,
    role_id  INTEGER NOT NULL,
    amount   INTEGER NOT NULL,
    PRIMARY KEY (guild_id, role_id)
);

CREATE TABLE blocked_members (
    guild_id     INTEGER NOT NULL,
    user_id      INTEGER NOT NULL,
    moderator_id INTEGER NOT NULL,
    created_at   REAL    NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);

-- When a server has rows here, songs may be made in these channels only.
CREATE TABLE allowed_channels (
    guild_id   INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    PRIMARY KEY (guild_id, channel_id)
);

-- 0: the job is charged to the server pool only (an approved community request).
ALTER TABLE jobs ADD COLUMN charge_member INTEGER NOT NULL DEFAULT 1;

CREATE TABLE song_requests (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id     INTEGER NOT NULL,
    channel_id   INTEGER NOT NULL,
    user_id      INTEGER NOT NULL,
    description  TEXT    NOT NULL,
    style        TEXT,
    state        TEXT    NOT NULL,     -- pending|approved|rejected|direct
    message_id   INTEGER,
    moderator_id INTEGER,
    reason       TEXT,
    job_id       INTEGER REFERENCES jobs (id),
    created_at   REAL    NOT NULL,
    decided_at   REAL
);
CREATE INDEX song_requests_guild ON song_requests (guild_id, state);

CREATE TABLE request_votes (
    request_id INTEGER NOT NULL REFERENCES song_requests (id),
    user_id    INTEGER NOT NULL,
    PRIMARY KEY (request_id, user_id)
);

-- 0: the entry counts against the server's budget but not the member's own limit.
ALTER TABLE ledger ADD COLUMN member_share INTEGER NOT NULL DEFAULT 1;
