/**
 * @kronos/transport: the Kafka and RabbitMQ adapters. Apps use these interfaces, never kafkajs directly, so the
 * Kafka client can be replaced. Today: connections and health checks; later issues add producers, consumers,
 * the retry policy and DLQ routing (`src/kafka/`, `src/rabbitmq/`).
 */
export { describeError, RETRIABLE, TransportError, type TransportErrorCode } from "./errors.js";
export {
  createKafkaConnection,
  type KafkaClusterInfo,
  type KafkaConnection,
  type KafkaConnectionOptions,
} from "./kafka/connection.js";
export { silentLogger, type TransportLogger } from "./logger.js";
export { type BackoffOptions, backoffDelay } from "./rabbitmq/backoff.js";
export {
  AmqpConnectionManager,
  type AmqpConnectionOptions,
  type AmqpState,
  redactAmqpUrl,
} from "./rabbitmq/connection-manager.js";
export { withTimeout } from "./timeout.js";
