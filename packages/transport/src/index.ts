/**
 * @kronos/transport: the Kafka and RabbitMQ adapters. Apps use these interfaces, never kafkajs directly, so the
 * Kafka client can be replaced. Today: connections and health checks; later issues add producers, consumers,
 * the retry policy and DLQ routing (`src/kafka/`, `src/rabbitmq/`).
 */
export {
  type ConsumerGroupLag,
  createTopic,
  deleteTopic,
  describeTopics,
  type TopicCleanupPolicy,
  type TopicInfo,
  type TopicOptions,
  type TopicPartitionInfo,
} from "./admin/kafka-topics.js";
export {
  deadLetterExchangeName,
  deadLetterQueueName,
  type QueueKind,
  type QueueOptions,
  retryQueueName,
} from "./admin/queue-plan.js";
export { type QueueInfo, RabbitManagementClient, type RabbitManagementOptions } from "./admin/rabbitmq-management.js";
export { declareQueue, deleteQueue } from "./admin/rabbitmq-queues.js";
export {
  type EnsureTopologyOptions,
  ensureTopology,
  type TopologyConflict,
  type TopologyItem,
  type TopologyReport,
} from "./admin/topology.js";
export type {
  Topology,
  TopologyDeadLetter,
  TopologyDestination,
  TopologyExchange,
  TopologyQueue,
  TopologyTopic,
} from "./admin/topology-model.js";
export { type BackoffOptions, backoffDelay } from "./backoff.js";
export {
  CLOUDEVENTS_PREFIX,
  CLOUDEVENTS_SPEC_VERSION,
  type CloudEventAttributes,
  cloudEventHeaders,
  isCloudEventsHeader,
  readCloudEvent,
} from "./cloudevents.js";
export {
  attemptOf,
  DEAD_LETTER_HEADERS,
  DEAD_LETTER_REASONS,
  type DeadLetterContext,
  type DeadLetterInfo,
  type DeadLetterReason,
  deadLetterHeaders,
  MAX_ERROR_LENGTH,
  RETRY_HEADERS,
  readDeadLetter,
  retryHeaders,
} from "./consume/dead-letter.js";
export {
  CONNECT_HEADERS,
  type DeadLetterDialect,
  type DeadLetterModel,
  readDeadLetterModel,
  SPRING_HEADERS,
} from "./consume/dead-letter-dialects.js";
export type {
  AmqpView,
  DeadLetterError,
  Delivery,
  DeliveryHandler,
  KafkaPosition,
  RawHeader,
  RetryOptions,
  Subscription,
} from "./consume/delivery.js";
export {
  CONSUME_ERROR_CODES,
  type ConsumePolicyOptions,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_RETRY_TIERS_MS,
  retryTier,
} from "./consume/policy.js";
export { describeError, RETRIABLE, TransportError, type TransportErrorCode } from "./errors.js";
export {
  createKafkaConnection,
  type KafkaClusterInfo,
  type KafkaConnection,
  type KafkaConnectionOptions,
} from "./kafka/connection.js";
export {
  createKafkaSubscription,
  type KafkaSubscription,
  type KafkaSubscriptionOptions,
} from "./kafka/consumer.js";
export {
  createKafkaPublisher,
  type KafkaAck,
  type KafkaHeaderValue,
  type KafkaPublisher,
  type KafkaPublisherOptions,
  type KafkaPublishOptions,
  type KafkaRecord,
} from "./kafka/publisher.js";
export { deadLetterTopicName, KAFKA_RETRY_HEADERS, retryTopicName } from "./kafka/retry-topics.js";
export {
  createKafkaRequester,
  type KafkaIncomingRequest,
  type KafkaReply,
  type KafkaRequest,
  type KafkaRequester,
  type KafkaRequesterOptions,
  type KafkaResponder,
  type KafkaResponderOptions,
  serveKafkaRequests,
} from "./kafka/rpc.js";
export {
  KAFKA_SASL_MECHANISMS,
  type KafkaSaslMechanism,
  type KafkaSaslOptions,
  type KafkaSecurityFailure,
  type KafkaTlsOptions,
  kafkaSecurityFailure,
} from "./kafka/security.js";
export { silentLogger, type TransportLogger } from "./logger.js";
export {
  CONSUME_METRIC_NAMES,
  type ConsumeLabels,
  type ConsumeMetrics,
  type ConsumeRecorder,
  createConsumeMetrics,
  type SettlementOutcome,
} from "./metrics/consume.js";
export { KAFKA_CONSUMER_LAG, type KafkaLagMetricsOptions, registerKafkaLagMetrics } from "./metrics/kafka-lag.js";
export {
  RABBITMQ_QUEUE_MESSAGES,
  type RabbitQueueMetricsOptions,
  registerRabbitQueueMetrics,
} from "./metrics/rabbitmq-queues.js";
export {
  derivedFrom,
  isInternalName,
  KAFKA_TOPIC_NAME,
  kafkaTopicNameProblem,
  type NameBroker,
  nameProblem,
  RABBITMQ_NAME_MAX_BYTES,
  REGISTRY_STORAGE_TOPICS,
  rabbitmqNameProblem,
} from "./names.js";
export {
  type AmqpConnectFailure,
  type AmqpConnectFailureKind,
  type AmqpCredentials,
  type AmqpTlsOptions,
  amqpSocketOptions,
  classifyAmqpConnectError,
} from "./rabbitmq/amqp-security.js";
export {
  AmqpConnectionManager,
  type AmqpConnectionOptions,
  type AmqpState,
  redactAmqpUrl,
} from "./rabbitmq/connection-manager.js";
export { AMQP_MAX_PREFETCH, type AmqpSubscriptionOptions, createAmqpSubscription } from "./rabbitmq/consumer.js";
export { ORIGINAL_ROUTE_HEADERS } from "./rabbitmq/consumer-message.js";
export {
  type AmqpTableJson,
  type AmqpValueJson,
  amqpTableFromJson,
  amqpTableToJson,
} from "./rabbitmq/header-table.js";
export {
  type AmqpMessage,
  type AmqpPublisher,
  type AmqpPublisherOptions,
  type AmqpPublishOptions,
  createAmqpPublisher,
} from "./rabbitmq/publisher.js";
export {
  type AmqpReply,
  type AmqpRequest,
  type AmqpRequester,
  type AmqpRequesterOptions,
  createAmqpRequester,
  DIRECT_REPLY_TO,
} from "./rabbitmq/requester.js";
export {
  type AmqpIncomingRequest,
  type AmqpResponder,
  type AmqpResponderOptions,
  serveAmqpRequests,
} from "./rabbitmq/responder.js";
export type { IncomingRequest, ReplyContent, RequestHandler, RequestOptions, RequestReply } from "./rpc/types.js";
export { withTimeout } from "./timeout.js";
