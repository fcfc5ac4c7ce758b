-- Jachai cloud schema, version 5: the check result cache. Same rules as version 1: TEXT and BIGINT only.

-- `verify::cache_key` of a check (kind / pipeline version / reference-data digest / SHA-256 of the bytes).
-- A new check whose key matches a `done` row is answered from that row at once; failed rows are never
-- reused. NULL where a check is not cached (web reports) and on rows from before version 5.
ALTER TABLE checks ADD COLUMN cache_key TEXT;
CREATE INDEX checks_cache_key ON checks (cache_key);
