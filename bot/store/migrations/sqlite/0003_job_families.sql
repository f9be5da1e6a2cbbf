-- Jobs for every MusicAPI family (sonic, producer, nuro, riffusion, studio), and results that
-- are not clips (a persona, a file to download), kept as JSON until they are delivered.
ALTER TABLE jobs ADD COLUMN family TEXT NOT NULL DEFAULT 'sonic';
ALTER TABLE jobs ADD COLUMN result TEXT;
