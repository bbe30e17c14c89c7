-- A RabbitMQ dead letter's AMQP header table with each value's type (transport's amqpTableToJson of
-- Delivery.amqp.properties.headers: [name, {type, ...}] pairs in order), so a replay sends a byte array as a byte
-- array and a number as a number. NULL on Kafka dead letters, on rows stored before this migration (a replay then
-- sends the headers as text), and when the table holds a NUL character in a text (which jsonb cannot store).
ALTER TABLE dead_letters ADD COLUMN amqp_headers jsonb;
