-- Repair: an operator's corrected payload, encoded with the event's current schema. The original bytes stay as they
-- were; a replay sends the repaired bytes when there are some.
ALTER TABLE dead_letters
  ADD COLUMN repaired_body      bytea,
  ADD COLUMN repaired_schema_id integer,
  ADD COLUMN repaired_at        timestamptz;
