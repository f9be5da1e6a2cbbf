-- Owner switches for whole command families that upstream has deprecated or withdrawn
-- (riffusion, studio). Global to the bot, not per server: the owner's MusicAPI key pays for
-- every server. A name without a row is off.
CREATE TABLE features (
    name       TEXT    PRIMARY KEY,
    enabled    INTEGER NOT NULL,
    updated_at REAL    NOT NULL,
    updated_by INTEGER NOT NULL
);
-- Every change, kept: who turned what on or off, and when.
CREATE TABLE feature_changes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL,
    enabled    INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    changed_at REAL    NOT NULL
);
