-- Drafts from /lyrics write, kept so their "use this draft" buttons work after a restart.
CREATE TABLE lyrics_drafts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id   INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    title      TEXT    NOT NULL,
    lyrics     TEXT    NOT NULL,
    created_at REAL    NOT NULL
);
