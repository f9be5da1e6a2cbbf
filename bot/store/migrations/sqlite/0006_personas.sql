-- Personas (a saved voice and style) made in a server; only ever listed for that server.
CREATE TABLE personas (
    persona_id TEXT    PRIMARY KEY,
    guild_id   INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    name       TEXT    NOT NULL,
    clip_id    TEXT,
    created_at REAL    NOT NULL
);
CREATE INDEX personas_guild ON personas (guild_id, created_at DESC);
