/**
 * @kronos/app-kit: what gateway, relay and dlq-manager share. Each app's `app.ts` creates its instance with
 * {@link createFastify}, calls {@link registerInfrastructure} (`configPlugin`, `readinessPlugin`, `errorsPlugin`,
 * `metricsPlugin`, `kafkaPlugin`, `amqpPlugin`, `registryPlugin`), registers `healthRoutes`, then its own routes. Its
 * `server.ts` only calls {@link startServer}.
 */
export { createFastify, type KronosApp, type ServerOptions } from "./app.js";
export * from "./auth/index.js";
export {
  clusterMetrics,
  joinCluster,
  type PrimaryOptions,
  runPrimary,
  WORKER_IGNORED_SIGNALS,
  type WorkerLink,
} from "./cluster.js";
export {
  ConfigError,
  DEFAULTS,
  type Env,
  EnvReader,
  loadServiceConfig,
  type ServiceConfig,
  type ServiceDefinition,
} from "./config.js";
export {
  KAFKA_SECURITY_PROTOCOLS,
  KAFKA_SECURITY_VARIABLES,
  type KafkaSecurityConfig,
  type KafkaSecurityProtocol,
  readKafkaSecurity,
} from "./config-kafka.js";
export { explainRabbitmqFailure, type RabbitmqConfig, readRabbitmqConfig } from "./config-rabbitmq.js";
export { CODE_BY_STATUS, ErrorBody, HttpError, toClientError } from "./http-error.js";
export { registerInfrastructure } from "./infrastructure.js";
export { type AmqpPluginOptions, amqpPlugin } from "./plugins/amqp.js";
export { type ConfigPluginOptions, configPlugin } from "./plugins/config.js";
export { type ErrorsPluginOptions, errorsPlugin } from "./plugins/errors.js";
export { healthRoutes, LivenessBody, ReadinessBody } from "./plugins/health.js";
export { kafkaPlugin } from "./plugins/kafka.js";
export { metricsPlugin, UNMATCHED_ROUTE } from "./plugins/metrics.js";
export { type ReadinessPluginOptions, readinessPlugin } from "./plugins/readiness.js";
export { registryPlugin } from "./plugins/registry.js";
export { type CheckResult, Readiness, type ReadinessCheck, type ReadinessReport } from "./readiness.js";
export { createSchemaRegistryProbe, type SchemaRegistryProbe } from "./schema-registry.js";
export { type ServerSpec, startServer } from "./server.js";
export { typeBoxValidatorCompiler } from "./validation.js";
