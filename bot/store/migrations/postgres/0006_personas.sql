-- Twin of sqlite/0006.
CREATE TABLE personas (
    persona_id TEXT   PRIMARY KEY,
    guild_id   BIGINT NOT NULL,
    user_id    BIGINT NOT NULL,
    name       TEXT   NOT NULL,
    clip_id    TEXT,
    created_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX personas_guild ON personas (guild_id, created_at DESC);
