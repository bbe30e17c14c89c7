import type { KronosApp } from "./app.js";
import type { ServiceConfig } from "./config.js";
import { amqpPlugin } from "./plugins/amqp.js";
import { configPlugin } from "./plugins/config.js";
import { errorsPlugin } from "./plugins/errors.js";
import { kafkaPlugin } from "./plugins/kafka.js";
import { metricsPlugin } from "./plugins/metrics.js";
import { readinessPlugin } from "./plugins/readiness.js";
import { registryPlugin } from "./plugins/registry.js";

/**
 * Registers what every Kronos app stands on, in dependency order: configuration, readiness, error handling,
 * metrics, then the Kafka, RabbitMQ and schema registry connections (each closes on shutdown). Apps register their
 * own plugins and routes after it, then {@link healthRoutes}.
 */
export async function registerInfrastructure(app: KronosApp, config: ServiceConfig): Promise<void> {
  await app.register(configPlugin, { config });
  await app.register(readinessPlugin);
  await app.register(errorsPlugin);
  await app.register(metricsPlugin);
  await app.register(kafkaPlugin);
  await app.register(amqpPlugin);
  await app.register(registryPlugin);
}
