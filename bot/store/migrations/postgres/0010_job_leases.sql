-- Twin of sqlite/0010.
-- Job ownership for several bot processes on one database. Every unfinished job has one
-- owner process at a time: `owner` holds the lease until `lease_until` (renewed by the
-- owner's heartbeat); `lease_epoch` goes up by one at every claim, and each state write of
-- the job checks it, so a stalled former owner cannot write after another took over.
ALTER TABLE jobs ADD COLUMN owner TEXT;
ALTER TABLE jobs ADD COLUMN lease_until DOUBLE PRECISION;
ALTER TABLE jobs ADD COLUMN lease_epoch INTEGER NOT NULL DEFAULT 0;
CREATE INDEX jobs_lease ON jobs (lease_until) WHERE notified = 0;
CREATE INDEX jobs_owner_due ON jobs (owner, next_run_at) WHERE notified = 0;

-- A pause every process respects: after a MusicAPI 429, no poll goes out before `until_at`.
CREATE TABLE upstream_pause (
    name     TEXT PRIMARY KEY,
    until_at DOUBLE PRECISION NOT NULL
);
