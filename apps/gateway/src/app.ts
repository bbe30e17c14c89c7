import {
  authPlugin,
  authRoutes,
  createFastify,
  healthRoutes,
  type KronosApp,
  registerInfrastructure,
} from "@kronos/app-kit";
import type { Config } from "./config.js";
import { contractsPlugin } from "./contracts/index.js";
import { PUBLISH_ERROR_CODES, REQUEST_ERROR_CODES } from "./messages/index.js";
import { openApiPlugin } from "./plugins/openapi.js";
import { publishersPlugin } from "./plugins/publishers.js";
import { publishRoutes } from "./publish/index.js";
import { queueRoutes } from "./queues/index.js";
import { requestRoutes } from "./request/index.js";
import { rootRoutes } from "./routes/root.js";
import { limitsPlugin } from "./security/limits.js";
import { principalRateLimitPlugin } from "./security/rate-limit.js";
import { MAX_EVENT_ID_LENGTH, subscribeRoutes } from "./subscribe/index.js";

export { type Action, type Principal, requireRight } from "@kronos/app-kit";
export { type Config, loadConfig } from "./config.js";

/**
 * Builds the gateway as a plugin tree: infrastructure first (config, readiness, error handling, metrics, Kafka,
 * RabbitMQ, the contract manifest, schema registry and publishers), then security (headers and body rules,
 * authentication, per-principal rate limit), then routes. Every route needs a principal except `/healthz`, `/readyz`, `/metrics` and the API docs; routes
 * check rights with `app.authorize(request, ...)` or `requireRight(...)`. HTTPS when `config.tls` is set.
 * Connects to nothing until the app is ready (`listen`, `ready` or the first `inject`); `close()` closes every
 * connection. Tests call it and use `inject`.
 */
export async function buildApp(config: Config): Promise<KronosApp> {
  const app = createFastify(config, {
    bodyLimitBytes: config.bodyLimitBytes,
    // Kafka tail handles carry a cursor (~117 characters for a few partitions): Fastify's default 100 would be 414.
    maxParamLength: MAX_EVENT_ID_LENGTH,
    timeouts: config.timeouts,
    // cert and key are non-enumerable on config.tls (kept out of logs): copy them explicitly.
    ...(config.tls === undefined ? {} : { https: { cert: config.tls.cert, key: config.tls.key } }),
  });

  // First: the OpenAPI document is built from every route registered after it (app-kit's /metrics too).
  await app.register(openApiPlugin, {
    version: "0.1.0",
    errorCodes: { publish: PUBLISH_ERROR_CODES, publishBatch: PUBLISH_ERROR_CODES, sendRequest: REQUEST_ERROR_CODES },
  });
  await registerInfrastructure(app, config);
  await app.register(contractsPlugin);
  await app.register(publishersPlugin, { nullSink: config.benchNullSink === true });

  await app.register(limitsPlugin, { https: config.tls !== undefined });
  await app.register(authPlugin, { ...config.auth, realm: "kronos-gateway" });
  await app.register(principalRateLimitPlugin, {
    perMinute: config.rateLimitPerMinute,
    redisUrl: config.publish.redisUrl,
    syncMs: config.rateLimitSyncMs,
  });

  await app.register(healthRoutes);
  await app.register(rootRoutes);
  await app.register(authRoutes);
  await app.register(queueRoutes, { ...config.queues, replyTopic: config.request.replyTopic });
  await app.register(publishRoutes, config.publish);
  await app.register(requestRoutes, config.request);
  await app.register(subscribeRoutes, {
    ...config.subscribe,
    rabbitmqManagementUrl: config.queues.rabbitmqManagementUrl,
    instanceId: config.instanceId,
    redisUrl: config.publish.redisUrl,
    forwardTimeoutMs: config.forwardTimeoutMs,
  });
  return app;
}
