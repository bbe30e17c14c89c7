/**
 * @kronos/transport/kafkajs: the one factory of kafkajs clients, for code that must speak kafkajs itself (the
 * benchmarks' raw-client baselines). Apps use the main entry, which never exposes kafkajs, so the Kafka client can
 * be replaced without touching them.
 */
export {
  createKafkaClient,
  DEFAULT_CONNECTION_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type KafkaClientOptions,
} from "./kafka/client.js";
export { kafkaSecurityConfig } from "./kafka/security.js";
