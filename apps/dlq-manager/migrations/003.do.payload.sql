-- The payload decoded by its writer schema at custody, as JSON, for filters on its fields (NULL when it was not
-- decodable then: not a Confluent frame, unknown schema id, registry unavailable).
ALTER TABLE dead_letters ADD COLUMN payload jsonb;
