-- The raw view of a dead letter (transport's Delivery.rawHeaders and rawKey), so nothing is lost to a UTF-8
-- decoding: every header in order, a repeated one once per value, as a JSON array of [name, base64 of the value's
-- bytes] pairs (jsonb cannot hold the NUL characters binary headers have); and the Kafka record key's bytes. NULL on
-- rows stored before this migration: their `headers` map (last value per name) is all there is.
ALTER TABLE dead_letters
  ADD COLUMN raw_headers      jsonb,
  ADD COLUMN record_key_bytes bytea;
