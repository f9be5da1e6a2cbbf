-- The order clips were stored in (a job's clips in upstream order), spelled the same way on
-- every engine: PostgreSQL has no rowid to sort by. New rows copy their rowid.
ALTER TABLE clips ADD COLUMN seq INTEGER;
UPDATE clips SET seq = rowid;
CREATE TRIGGER clips_seq AFTER INSERT ON clips WHEN NEW.seq IS NULL
BEGIN
    UPDATE clips SET seq = NEW.rowid WHERE rowid = NEW.rowid;
END;
