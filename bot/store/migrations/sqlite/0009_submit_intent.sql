-- Submit intent: a job's request is fingerprinted and stamped `sent_at` before it leaves for
-- MusicAPI, so a restart can tell a job that never left (nothing made) from one that may have
-- reached MusicAPI (possibly made and billed). `orphaned_at` marks a job released although
-- MusicAPI may have made it: the owner's count of possibly billed orphans.
ALTER TABLE jobs ADD COLUMN request_fingerprint TEXT;
ALTER TABLE jobs ADD COLUMN sent_at REAL;
ALTER TABLE jobs ADD COLUMN orphaned_at REAL;
CREATE INDEX jobs_orphaned ON jobs (orphaned_at) WHERE orphaned_at IS NOT NULL;
