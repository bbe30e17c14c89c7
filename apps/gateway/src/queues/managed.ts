/** The two brokers a queue id can name. */
export type Broker = "rabbitmq" | "kafka";

/** A destination the queue routes administer: a RabbitMQ queue or a Kafka topic. */
export interface QueueRef {
  broker: Broker;
  name: string;
}

/**
 * Parses a queue id, `<broker>:<name>` (`rabbitmq:orders`, `kafka:kronos.log.entries`): the broker is the text
 * before the first `:`, the name everything after it (RabbitMQ names may hold `:`). Undefined when the broker is
 * unknown or the name empty.
 */
export function parseQueueId(id: string): QueueRef | undefined {
  const colon = id.indexOf(":");
  if (colon < 0) return undefined;
  const broker = id.slice(0, colon);
  const name = id.slice(colon + 1);
  if ((broker !== "rabbitmq" && broker !== "kafka") || name === "") return undefined;
  return { broker, name };
}

/** The queue id of `name` on `broker`: `<broker>:<name>` (see {@link parseQueueId}). */
export function formatQueueId(broker: Broker, name: string): string {
  return `${broker}:${name}`;
}
