/**
 * @kronos/local-stack: Kafka (KRaft), Apicurio Registry and RabbitMQ as local processes, for development and
 * tests on machines without Docker. The CLI is `kronos-stack` (see `kronos-stack --help`).
 */
export { StackError } from "./errors.js";
export { killKafkaNode, renderKafkaConfig } from "./services/kafka.js";
export { renderStunnelConfig } from "./services/rabbitmq-tls.js";
export {
  ensureRabbitmqAppUsers,
  RABBITMQ_APP_PERMISSIONS,
  type RabbitmqApp,
  type RabbitmqAppUser,
  type RabbitmqPermissions,
  rabbitmqAppPassword,
  rabbitmqAppUser,
} from "./services/rabbitmq-users.js";
export type { ServiceStatus } from "./services/service.js";
export { endpoints, kafkaNodePorts, loadSettings, type StackSettings, type StackVersions } from "./settings.js";
export {
  ensureStackUp,
  killService,
  logFileOf,
  type ServiceName,
  services,
  stackStatus,
  startService,
  stopService,
  stopStack,
} from "./stack.js";
export { ensureLocalTls, type LocalTls, localTlsPaths } from "./tls.js";
