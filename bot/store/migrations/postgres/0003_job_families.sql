-- Twin of sqlite/0003.
ALTER TABLE jobs ADD COLUMN family TEXT NOT NULL DEFAULT 'sonic';
ALTER TABLE jobs ADD COLUMN result JSONB;
